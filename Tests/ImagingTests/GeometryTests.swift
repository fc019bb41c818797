@testable import Imaging
import Testing

@Suite("Resize and crop geometry follow torchvision")
struct GeometryTests {
    static let fixtures = try? TorchvisionFixtures.load()

    @Test("Resize output sizes (torchvision's _compute_resized_output_size)")
    func resizedSizes() throws {
        let geometry = try #require(Self.fixtures?.geometry)
        #expect(geometry.resizes.count > 50)
        for row in geometry.resizes {
            let resize: PreprocessSpec.Resize
            if row.size.count == 2 {
                resize = .exact(.init(width: row.size[1], height: row.size[0]))
            } else if let maxSize = row.max_size {
                resize = .shorterSideAtMost(row.size[0], maxSize: maxSize)
            } else {
                resize = .shorterSide(row.size[0])
            }
            let size = PreprocessSpec(resize: resize).resizedSize(width: row.width, height: row.height)
            #expect(size == .init(width: row.resized_width, height: row.resized_height), "\(row.width)×\(row.height) \(resize)")
        }
    }

    @Test("CenterCrop offsets, including Python's round-half-to-even and zero padding")
    func cropOffsets() throws {
        let geometry = try #require(Self.fixtures?.geometry)
        for row in geometry.crops {
            let x = AxisGeometry(resizedSize: row.width, crop: row.crop[1])
            let y = AxisGeometry(resizedSize: row.height, crop: row.crop[0])
            #expect(x.cropOffset == row.offset_left && y.cropOffset == row.offset_top, "\(row.width)×\(row.height) crop \(row.crop)")
        }
    }

    @Test("kept ranges of a padded crop")
    func keptRanges() {
        let axis = AxisGeometry(resizedSize: 200, crop: 224)
        #expect(axis.cropOffset == -12)
        #expect(axis.keptResized == 0..<200)
        #expect(axis.keptOutput == 12..<212)
        #expect(axis.isPadded)
        let inside = AxisGeometry(resizedSize: 385, crop: 224)
        #expect(inside.keptResized == 80..<304 && inside.keptOutput == 0..<224 && !inside.isPadded)
    }

    @Test("filter weights sum to one in fixed point and stay inside the input")
    func weights() {
        var weights = FilterWeights()
        for (input, output) in [(640, 384), (100, 256), (2000, 224), (7, 3), (1, 256), (256, 256)] {
            weights.compute(inputSize: input, in0: 0, in1: Double(input), outputSize: output, outputs: 0..<output)
            for j in 0..<output {
                let row = weights.weights[(j * weights.taps)..<((j + 1) * weights.taps)]
                let sum = row.reduce(0, +)
                #expect(abs(Int(sum) - (1 << 22)) <= weights.taps, "\(input)→\(output) output \(j): \(sum)")
                #expect(weights.first[j] >= 0 && weights.first[j] + weights.count[j] <= input)
            }
        }
    }
}
