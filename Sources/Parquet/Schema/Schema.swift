/// A node of the schema tree rebuilt from the footer's flat, depth-first list of schema elements.
public struct SchemaNode: Sendable {
    public let element: SchemaElement
    public let children: [SchemaNode]
    /// Names from the first field below the root to this node.
    public let path: [String]
    public let maxDefinitionLevel: Int
    public let maxRepetitionLevel: Int
    /// The leaf columns under this node (for a leaf: itself), as indices into `Schema.columns`.
    public let leafRange: Range<Int>

    public var name: String { element.name }
    public var isLeaf: Bool { element.type != nil && children.isEmpty }
    public var repetition: Repetition { element.repetition ?? .required }
    public var dottedPath: String { path.joined(separator: ".") }
}

/// One leaf column: what the reader needs to decode its pages.
public struct ColumnDescriptor: Sendable {
    public let index: Int
    public let path: [String]
    public let element: SchemaElement
    public let physicalType: PhysicalType
    public let maxDefinitionLevel: Int
    public let maxRepetitionLevel: Int

    public var dottedPath: String { path.joined(separator: ".") }
    public var typeLength: Int { Int(element.typeLength ?? 0) }
}

public struct Schema: Sendable {
    public let root: SchemaNode
    public let columns: [ColumnDescriptor]
    /// Top-level field positions by name (the first of a name), so a lookup per field stays linear overall.
    private let fieldIndex: [String: Int]
    /// Leaf positions by dotted path (the first of a path), for the same reason.
    private let columnIndex: [String: Int]

    /// Top-level fields.
    public var fields: [SchemaNode] { root.children }

    public init(elements: [SchemaElement]) throws {
        guard let first = elements.first else {
            throw ParquetError.corruptMetadata("the schema is empty")
        }
        var builder = Builder(elements: elements)
        let rootChildren = Int(first.numChildren ?? 0)
        guard first.type == nil, rootChildren >= 0 else {
            throw ParquetError.corruptMetadata("the schema root '\(first.name)' is not a group")
        }
        builder.position = 1
        var children: [SchemaNode] = []
        for _ in 0..<rootChildren {
            children.append(try builder.node(parentPath: [], parentDefinition: 0, parentRepetition: 0, depth: 1))
        }
        guard builder.position == elements.count else {
            throw ParquetError.corruptMetadata("the schema lists \(elements.count) elements but its tree holds \(builder.position)")
        }
        root = SchemaNode(element: first, children: children, path: [], maxDefinitionLevel: 0,
                          maxRepetitionLevel: 0, leafRange: 0..<builder.columns.count)
        columns = builder.columns
        var index: [String: Int] = [:]
        for (i, child) in children.enumerated() where index[child.name] == nil { index[child.name] = i }
        fieldIndex = index
        var paths: [String: Int] = [:]
        for (i, column) in columns.enumerated() where paths[column.dottedPath] == nil { paths[column.dottedPath] = i }
        columnIndex = paths
    }

    public func field(named name: String) -> SchemaNode? {
        fieldIndex[name].map { root.children[$0] }
    }

    /// The leaf whose dotted path is `path` (e.g. "image.list.element").
    public func column(dottedPath path: String) -> ColumnDescriptor? {
        columnIndex[path].map { columns[$0] }
    }

    private struct Builder {
        let elements: [SchemaElement]
        var position = 0
        var columns: [ColumnDescriptor] = []
        static let maxDepth = 128

        mutating func node(parentPath: [String], parentDefinition: Int, parentRepetition: Int, depth: Int) throws -> SchemaNode {
            guard depth <= Self.maxDepth else {
                throw ParquetError.corruptMetadata("the schema nests deeper than \(Self.maxDepth) levels")
            }
            guard position < elements.count else {
                throw ParquetError.corruptMetadata("the schema's num_children counts more elements than the \(elements.count) it has")
            }
            let element = elements[position]
            position += 1
            let path = parentPath + [element.name]
            let repetition = element.repetition ?? .required
            let definition = parentDefinition + (repetition == .required ? 0 : 1)
            let repetitionLevel = parentRepetition + (repetition == .repeated ? 1 : 0)
            let childCount = Int(element.numChildren ?? 0)
            let firstLeaf = columns.count

            if let type = element.type {
                guard childCount == 0 else {
                    throw ParquetError.corruptMetadata("schema element '\(path.joined(separator: "."))' has a physical type and \(childCount) children")
                }
                if type == .fixedLenByteArray, (element.typeLength ?? 0) < 0 {
                    throw ParquetError.corruptMetadata("column '\(path.joined(separator: "."))' has a negative type_length")
                }
                columns.append(ColumnDescriptor(index: firstLeaf, path: path, element: element, physicalType: type,
                                                maxDefinitionLevel: definition, maxRepetitionLevel: repetitionLevel))
                return SchemaNode(element: element, children: [], path: path, maxDefinitionLevel: definition,
                                  maxRepetitionLevel: repetitionLevel, leafRange: firstLeaf..<firstLeaf + 1)
            }
            guard childCount > 0 else {
                throw ParquetError.corruptMetadata("schema group '\(path.joined(separator: "."))' has no children")
            }
            var children: [SchemaNode] = []
            for _ in 0..<childCount {
                children.append(try node(parentPath: path, parentDefinition: definition,
                                         parentRepetition: repetitionLevel, depth: depth + 1))
            }
            return SchemaNode(element: element, children: children, path: path, maxDefinitionLevel: definition,
                              maxRepetitionLevel: repetitionLevel, leafRange: firstLeaf..<columns.count)
        }
    }
}
