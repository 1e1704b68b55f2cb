/// Positions of ids (COCO image and category ids): a table indexed by id when the ids are
/// compact enough, else a dictionary. Scoring looks up two ids per detection several times;
/// a table costs a bounds check and a load where hashing cost 20–30 ns.
struct IDIndex: Sendable {
    private let table: [Int32]
    private let lowest: Int
    private let dictionary: [Int: Int]

    /// `self[ids[k]] == k`; an id given twice keeps its first position.
    init(_ ids: [Int]) {
        let lowest = ids.min() ?? 0, highest = ids.max() ?? 0
        // COCO's val2017 has 5 000 image ids up to 581 781: a 2.3 MB table, well worth it.
        let (span, overflow) = highest.subtractingReportingOverflow(lowest)
        if !overflow, span < max(4096, 128 * ids.count), span < 1 << 26, ids.count < Int(Int32.max) {
            var table = [Int32](repeating: -1, count: span + 1)
            for (position, id) in ids.enumerated() where table[id - lowest] < 0 { table[id - lowest] = Int32(position) }
            self.table = table
            dictionary = [:]
        } else {
            table = []
            dictionary = Dictionary(ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
        self.lowest = lowest
    }

    subscript(id: Int) -> Int? {
        guard !table.isEmpty else { return dictionary[id] }
        let (offset, overflow) = id.subtractingReportingOverflow(lowest)
        guard !overflow, offset >= 0, offset < table.count, table[offset] >= 0 else { return nil }
        return Int(table[offset])
    }
}
