/// A first-in first-out list for one thread: append at the back, take from the front, both
/// amortized O(1). An array with a head index; a taken slot is cleared at once (so it holds no
/// reference), and the taken prefix is dropped once it is at least half of the array, so each
/// element is moved at most once per append.
struct RequestQueue<Element> {
    private var slots: [Element?] = []
    private var head = 0

    var isEmpty: Bool { head == slots.count }
    var count: Int { slots.count - head }
    var first: Element? { isEmpty ? nil : slots[head] }

    mutating func append(_ element: Element) {
        slots.append(element)
    }

    /// Takes the front element.
    @discardableResult
    mutating func removeFirst() -> Element {
        precondition(!isEmpty, "removeFirst on an empty queue")
        let element = slots[head]!
        slots[head] = nil
        head += 1
        if head == slots.count {
            slots.removeAll(keepingCapacity: slots.capacity <= 4_096)
            head = 0
        } else if head >= 1_024 && head * 2 >= slots.count {
            slots.removeSubrange(0 ..< head)
            head = 0
        }
        return element
    }

    /// Takes every element, front first.
    mutating func removeAll() -> [Element] {
        let taken = slots[head...].map { $0! }
        slots = []
        head = 0
        return taken
    }
}
