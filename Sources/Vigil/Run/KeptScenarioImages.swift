import Synchronization

/// The scenario images a run's report will show, kept as the run makes them, so that the
/// report does not make them a second time. On camera-size photographs re-applying the shown
/// scenarios (low light's noise above all) was two thirds of a report's time.
///
/// A classification report shows, per scenario and model, the `limit` most confident
/// misclassifications, in ``Outcome/shownFirst(_:_:)`` order. The run offers every batch it
/// has predicted; this keeps the images among those so far and lets go of the ones pushed out,
/// holding at most `byteLimit` bytes of pixels. An image it does not have (past the byte limit,
/// a baseline taken from the store, a detection run, whose galleries rank differently) the
/// report makes again from the image file: the same bytes, as scenarios are deterministic.
public final class KeptScenarioImages: Sendable {
    public let limit: Int
    public let byteLimit: Int

    /// A scenario (by id) and a sample (its index in the golden set's manifest).
    public struct Key: Hashable, Sendable {
        public var scenarioID: String
        public var sample: Int

        public init(scenarioID: String, sample: Int) {
            self.scenarioID = scenarioID
            self.sample = sample
        }
    }

    private struct Ranked {
        var sample: Int
        var outcome: Outcome
    }

    private struct State {
        /// Per scenario id and role: the worst failures so far, at most `limit`, in shown order.
        var worst: [String: [ModelRole: [Ranked]]] = [:]
        /// How many of the lists in `worst` hold each pair.
        var holders: [Key: Int] = [:]
        /// The images of held pairs, as far as `byteLimit` allows.
        var images: [Key: Image] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())

    /// 512 MiB by default: 24 tiles × 2 models × 8 scenarios of 1280×960 photographs would be
    /// 1.4 GiB; past the limit the report makes the rest itself, as it did before.
    public init(limit: Int, byteLimit: Int = 512 << 20) {
        self.limit = limit
        self.byteLimit = byteLimit
    }

    /// Offers a predicted batch of one scenario: `samples` (manifest indices), the images the
    /// models received, and each model's outcomes in the same order.
    public func offer(scenarioID: String, samples: [Int], images: [Image], outcomes: [ModelRole: [Outcome]]) {
        guard limit > 0 else { return }
        state.withLock { state in
            for (role, roleOutcomes) in outcomes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                var list = state.worst[scenarioID, default: [:]][role, default: []]
                for (index, outcome) in roleOutcomes.enumerated() where !outcome.correct {
                    let entry = Ranked(sample: samples[index], outcome: outcome)
                    if list.count == limit, let last = list.last, !Outcome.shownFirst(outcome, last.outcome) { continue }
                    let position = list.firstIndex { Outcome.shownFirst(outcome, $0.outcome) } ?? list.count
                    list.insert(entry, at: position)
                    hold(Key(scenarioID: scenarioID, sample: entry.sample), images[index], in: &state)
                    if list.count > limit {
                        let dropped = list.removeLast()
                        release(Key(scenarioID: scenarioID, sample: dropped.sample), in: &state)
                    }
                }
                state.worst[scenarioID, default: [:]][role] = list
            }
        }
    }

    /// The kept image of a pair, if it was kept.
    public func image(_ key: Key) -> Image? {
        state.withLock { $0.images[key] }
    }

    /// How many images are kept, and their bytes of pixels.
    public var held: (images: Int, bytes: Int) {
        state.withLock { ($0.images.count, $0.bytes) }
    }

    private func hold(_ key: Key, _ image: Image, in state: inout State) {
        state.holders[key, default: 0] += 1
        let size = image.width * image.height * image.channels
        if state.images[key] == nil, state.bytes + size <= byteLimit {
            state.images[key] = image
            state.bytes += size
        }
    }

    private func release(_ key: Key, in state: inout State) {
        state.holders[key]! -= 1
        guard state.holders[key] == 0 else { return }
        state.holders[key] = nil
        if let image = state.images.removeValue(forKey: key) {
            state.bytes -= image.width * image.height * image.channels
        }
    }
}

extension Outcome {
    /// The order of failure galleries: the more confident mistake first, ties by sample id.
    public static func shownFirst(_ a: Outcome, _ b: Outcome) -> Bool {
        a.confidence != b.confidence ? a.confidence > b.confidence : a.sampleID < b.sampleID
    }
}
