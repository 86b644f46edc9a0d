//! The event queue.
//!
//! **Ordering contract:** events are delivered in order of their time; events at the same
//! instant are delivered in the order they were scheduled (insertion sequence). Nothing else
//! (payload, memory address, hash) influences the order, so a run is reproducible bit for bit.
//!
//! A caller may reserve a sequence number now and schedule with it later
//! ([`EventQueue::reserve_sequence`], [`EventQueue::schedule_reserved`]); the event then orders
//! exactly as if it had been scheduled at reservation. This lets the simulator keep timers of
//! equal length in a FIFO outside the heap and hand the heap only the earliest one.
//!
//! Cancellation is lazy: a timer is cancelled by invalidating what it refers to (a generational
//! [`super::Handle`] or a per-owner generation number); the stale event is skipped when popped.
//! That keeps scheduling and cancelling O(log n) and O(1) without searching the heap.

use crate::time::SimTime;
use alloc::collections::BinaryHeap;
use core::cmp::Ordering;

struct Entry<E> {
    /// Time in the high bits would overflow; keep (time, sequence) as two words and compare both.
    time: SimTime,
    sequence: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.sequence == other.sequence
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that the max-heap pops the earliest (time, sequence) first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.time.cmp(&self.time).then_with(|| other.sequence.cmp(&self.sequence))
    }
}

/// A priority queue of events keyed by (time, insertion sequence).
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_sequence: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { heap: BinaryHeap::new(), next_sequence: 0 }
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedules `event` at `time`. Events at equal times keep their scheduling order.
    pub fn schedule(&mut self, time: SimTime, event: E) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.heap.push(Entry { time, sequence, event });
    }

    /// Takes the next insertion sequence number without scheduling anything yet.
    pub fn reserve_sequence(&mut self) -> u64 {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        sequence
    }

    /// Schedules `event` with a sequence number from [`Self::reserve_sequence`].
    pub fn schedule_reserved(&mut self, time: SimTime, sequence: u64, event: E) {
        self.heap.push(Entry { time, sequence, event });
    }

    /// Time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|entry| entry.time)
    }

    /// Removes and returns the next event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|entry| (entry.time, entry.event))
    }

    /// Removes and returns the next event if it is due strictly before `limit`.
    pub fn pop_before(&mut self, limit: SimTime) -> Option<(SimTime, E)> {
        if self.heap.peek()?.time < limit {
            self.pop()
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Events scheduled so far, popped or not.
    pub fn scheduled_count(&self) -> u64 {
        self.next_sequence
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_then_insertion_order() {
        let mut queue = EventQueue::new();
        let schedule: [(u64, &str); 7] =
            [(30, "c1"), (10, "a1"), (20, "b1"), (10, "a2"), (30, "c2"), (0, "z"), (10, "a3")];
        for (time, name) in schedule {
            queue.schedule(SimTime(time), name);
        }
        let mut order = Vec::new();
        while let Some((time, name)) = queue.pop() {
            order.push((time.0, name));
        }
        assert_eq!(order, [(0, "z"), (10, "a1"), (10, "a2"), (10, "a3"), (20, "b1"), (30, "c1"), (30, "c2")]);
    }

    #[test]
    fn equal_times_keep_insertion_order_across_interleaved_pops() {
        let mut queue = EventQueue::new();
        queue.schedule(SimTime(5), 1);
        queue.schedule(SimTime(5), 2);
        assert_eq!(queue.pop(), Some((SimTime(5), 1)));
        queue.schedule(SimTime(5), 3); // scheduled later, at the same instant: after 2
        assert_eq!(queue.pop(), Some((SimTime(5), 2)));
        assert_eq!(queue.pop(), Some((SimTime(5), 3)));
        assert_eq!(queue.pop(), None);
    }

    #[test]
    fn reserved_sequences_order_as_if_scheduled_at_reservation() {
        let mut queue = EventQueue::new();
        let early = queue.reserve_sequence();
        queue.schedule(SimTime(5), "scheduled second");
        queue.schedule_reserved(SimTime(5), early, "reserved first");
        assert_eq!(queue.pop(), Some((SimTime(5), "reserved first")));
        assert_eq!(queue.pop(), Some((SimTime(5), "scheduled second")));
    }

    #[test]
    fn pop_before_is_exclusive() {
        let mut queue = EventQueue::new();
        queue.schedule(SimTime(10), 'a');
        assert_eq!(queue.pop_before(SimTime(10)), None);
        assert_eq!(queue.pop_before(SimTime(11)), Some((SimTime(10), 'a')));
    }
}
