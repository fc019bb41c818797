import Foundation
@testable import Pipeline
import SluiceTestSupport
import Testing

@Suite("PeerProcess: how every benchmark runs its Python peers")
struct PeerProcessTests {
    static func script(_ body: String) throws -> String {
        let path = (try TestData.temporaryDirectory("peer-process") as NSString).appendingPathComponent("peer.py")
        try body.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("the JSON lines a peer prints are returned in order; other lines are ignored")
    func jsonLines() throws {
        let path = try Self.script("import json, sys\nprint('warming up')\nprint(json.dumps({'images_per_s': 12.5, 'arg': sys.argv[1]}))\nprint(json.dumps({'peer': 'x'}))\n")
        let objects = try PeerProcess.run(script: path, arguments: ["--flag"]).get()
        #expect(objects.count == 2)
        #expect(objects.first?["images_per_s"] as? Double == 12.5 && objects.first?["arg"] as? String == "--flag")
        #expect(objects.last?["peer"] as? String == "x")
    }

    @Test("a missing script, a failing peer and a hung peer are failures that say why")
    func failures() throws {
        guard case .failure(let missing) = PeerProcess.run(script: "/nonexistent/peer.py", arguments: []) else {
            Issue.record("a missing script must fail"); return
        }
        #expect(missing.description.contains("no script"))
        let failing = try Self.script("import sys\nsys.stderr.write('ModuleNotFoundError: no module named torch\\n')\nsys.exit(3)\n")
        guard case .failure(let error) = PeerProcess.run(script: failing, arguments: []) else { Issue.record("exit 3 must fail"); return }
        #expect(error.description.contains("no module named torch"))
        let hung = try Self.script("import time\ntime.sleep(60)\n")
        guard case .failure(let timeout) = PeerProcess.run(script: hung, arguments: [], timeout: 0.5) else { Issue.record("must time out"); return }
        #expect(timeout.description.contains("timed out"))
    }
}
