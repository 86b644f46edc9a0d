//! A service's waiting line: one lane per criticality (only lane 0 is used unless the
//! discipline is `priority`), popped from the front (oldest) or the back (newest).
//!
//! Cancelled attempts are not searched for and removed (that would cost O(queue) per
//! cancellation, in exactly the overloads where cancellations are many): they stay in place,
//! marked on the attempt, and are skipped when popped. `live` counts the others, and is the
//! length every metric and limit sees.

use crate::engine::Handle;
use crate::prelude::*;
use crate::scenario::{Criticality, Discipline};

const LANES: usize = 4;

#[derive(Default)]
pub(super) struct ServiceQueue {
    lanes: [VecDeque<Handle>; LANES],
    /// Entries not cancelled.
    live: u32,
    /// Entries cancelled but not yet popped.
    cancelled: u32,
}

fn lane_of(criticality: Criticality) -> usize {
    match criticality {
        Criticality::CriticalPlus => 0,
        Criticality::Critical => 1,
        Criticality::SheddablePlus => 2,
        Criticality::Sheddable => 3,
    }
}

impl ServiceQueue {
    /// Attempts waiting (cancelled ones excluded).
    pub fn len(&self) -> u32 {
        self.live
    }

    /// No entries at all, cancelled or not.
    pub fn is_empty(&self) -> bool {
        self.live == 0 && self.cancelled == 0
    }

    pub fn push(&mut self, attempt: Handle, discipline: Discipline, criticality: Criticality) {
        let lane = if discipline == Discipline::Priority { lane_of(criticality) } else { 0 };
        self.lanes[lane].push_back(attempt);
        self.live += 1;
    }

    /// Takes the next entry: for `priority` the oldest of the most critical lane; otherwise
    /// the newest when `serve_newest`, else the oldest. The caller then reports whether it was
    /// live ([`Self::popped_live`]) or cancelled ([`Self::popped_cancelled`]).
    pub fn pop(&mut self, discipline: Discipline, serve_newest: bool) -> Option<Handle> {
        match discipline {
            Discipline::Priority => self.lanes.iter_mut().find(|lane| !lane.is_empty())?.pop_front(),
            _ if serve_newest => self.lanes[0].pop_back(),
            _ => self.lanes[0].pop_front(),
        }
    }

    /// The oldest entry of each lane, without taking it.
    pub fn fronts(&self) -> impl Iterator<Item = (usize, Handle)> + '_ {
        self.lanes.iter().enumerate().filter_map(|(lane, entries)| entries.front().map(|&front| (lane, front)))
    }

    /// Takes the oldest entry of `lane` (after [`Self::fronts`] named it).
    pub fn pop_front_of(&mut self, lane: usize) -> Option<Handle> {
        self.lanes.get_mut(lane)?.pop_front()
    }

    pub fn popped_live(&mut self) {
        self.live = self.live.saturating_sub(1);
    }

    pub fn popped_cancelled(&mut self) {
        self.cancelled = self.cancelled.saturating_sub(1);
    }

    /// A queued attempt was cancelled where it stands.
    pub fn cancelled_in_place(&mut self) {
        self.live = self.live.saturating_sub(1);
        self.cancelled += 1;
    }

    /// Empties the queue, oldest first, lanes in order.
    pub fn drain(&mut self) -> Vec<Handle> {
        let mut all = Vec::with_capacity((self.live + self.cancelled) as usize);
        for lane in &mut self.lanes {
            all.extend(lane.drain(..));
        }
        self.live = 0;
        self.cancelled = 0;
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle(index: u32) -> Handle {
        Handle { index, generation: 0 }
    }

    #[test]
    fn disciplines_pop_in_their_order() {
        let mut queue = ServiceQueue::default();
        for i in 0..3 {
            queue.push(handle(i), Discipline::Fifo, Criticality::Critical);
        }
        assert_eq!(queue.pop(Discipline::Fifo, false), Some(handle(0)));
        assert_eq!(queue.pop(Discipline::Lifo, true), Some(handle(2)));
        assert_eq!(queue.len(), 3, "len changes only when the caller reports what it popped");

        let mut queue = ServiceQueue::default();
        queue.push(handle(1), Discipline::Priority, Criticality::Sheddable);
        queue.push(handle(2), Discipline::Priority, Criticality::Critical);
        queue.push(handle(3), Discipline::Priority, Criticality::Critical);
        queue.push(handle(4), Discipline::Priority, Criticality::CriticalPlus);
        let order: Vec<u32> = core::iter::from_fn(|| queue.pop(Discipline::Priority, false)).map(|h| h.index).collect();
        assert_eq!(order, [4, 2, 3, 1]);
    }

    #[test]
    fn cancelled_entries_leave_the_length_at_once() {
        let mut queue = ServiceQueue::default();
        queue.push(handle(0), Discipline::Fifo, Criticality::Critical);
        queue.push(handle(1), Discipline::Fifo, Criticality::Critical);
        queue.cancelled_in_place();
        assert_eq!(queue.len(), 1);
        queue.pop(Discipline::Fifo, false);
        queue.popped_cancelled();
        queue.pop(Discipline::Fifo, false);
        queue.popped_live();
        assert_eq!(queue.len(), 0);
        assert_eq!(queue.drain(), []);
    }
}
