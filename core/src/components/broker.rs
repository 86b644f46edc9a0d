//! A message broker with the delivery semantics of an Amazon SQS standard queue. Producers
//! [`Broker::send`] messages; consumers [`Broker::receive`] batches of them, which stay in the queue
//! but invisible for the visibility timeout, and [`Broker::delete`] each one they processed. A
//! message not deleted in time becomes visible again and is delivered again; after
//! `max_receive_count` receives the next receive attempt moves it to a dead-letter list instead;
//! a message older than the retention period is dropped.
//!
//! **Why it matters.** A queue between a producer and its consumers absorbs bursts, but its
//! failure modes are its own: delivery is at least once, so a consumer slower than the visibility
//! timeout sees its messages delivered twice and works twice as hard exactly when it is already
//! behind; a message whose processing always fails (a *poison* message) comes back every
//! visibility timeout and takes a consumer's time each time, until a redrive policy sends it to the
//! dead-letter queue; and a backlog older than the retention period is silently lost.
//!
//! Semantics, after the Amazon SQS Developer Guide ("Amazon SQS visibility timeout", "Using
//! dead-letter queues", "Amazon SQS message metadata", `ReceiveMessage`, `DeleteMessage`,
//! `ChangeMessageVisibility`), simplified where simplifying changes nothing a simulation measures:
//!
//! - A receive makes a message invisible until `now + visibility_timeout`; it is visible again *at*
//!   that instant (a receive at the deadline gets it, one a nanosecond before does not).
//! - The receive count counts deliveries. With `max_receive_count` N, the first N receive attempts
//!   deliver; the (N+1)-th finds the count reached and moves the message to the dead-letter list
//!   instead of delivering it (SQS checks the count when a receive picks the message). A message
//!   dead-lettered that way does not take one of the batch's places: the receive goes on to the next
//!   visible message. `Some(0)` dead-letters a message at its first receive attempt (SQS accepts
//!   1..=1000; checking the range is the scenario validator's job).
//! - Each delivery hands out a new receipt, and only the latest one deletes or changes visibility
//!   (SQS: "you must provide the most recently received receipt handle"). The latest receipt still
//!   deletes after the visibility timeout ended, as long as no receive came in between. A receipt
//!   is the message's receive count at that delivery, so it is unique per message and never 0.
//! - Retention counts from the send, in flight or not: a message whose age reaches `retention` is
//!   dropped at once, even while a consumer holds it; that consumer's delete then finds nothing
//!   and returns false (SQS deletes expired messages whatever their state). Messages moved to the
//!   dead-letter list keep their `sent_at`: on a standard queue SQS keeps the original enqueue
//!   timestamp, so the DLQ's retention also counts from the first send.
//! - Ordering. A standard queue promises none ("best-effort ordering"). Here, visible messages are
//!   delivered in the order they *became visible*, ties broken by id: fresh messages in send order,
//!   and a message whose visibility ended rejoins at the back of the line at the instant its
//!   timeout ended (not when [`Broker::advance`] noticed). The alternative, oldest send first, would
//!   put a poison message at the head of every batch after each timeout, a head-of-line loop no
//!   distributed SQS queue shows; SQS's own CloudWatch notes describe a message received three or
//!   more times without being deleted as moved to the back of the queue.
//! - Time only moves forward: a call with a `now` earlier than one seen before acts at the latest
//!   time seen. Every call that takes `now` first brings the broker to it (as [`Broker::advance`]).
//!
//! Not modelled: delay queues and per-message timers, the 12-hour cap on a message's total
//! visibility extension, long polling (the simulator decides when consumers poll), the in-flight
//! limit (120 000 messages), and the occasional duplicate or missed message of a standard queue's
//! sampled servers.
//!
//! **Cost.** Every message is held once in a map by id plus the ordered indexes of where it is
//! (visible: by delivery order and by id; in flight: by deadline), so memory is proportional to
//! the messages held, and each operation costs O(log n) per message it touches. Expiries and
//! dead-letter moves happen once per message, so their work is amortized over the sends.
//!
//! **Example** (SQS defaults, 30 s visibility and 4-day retention; a redrive policy of 3): three
//! messages are sent at 0 s and a consumer receives two; one visible, two in flight. It deletes
//! message 0. Message 1 is not deleted: at 29.999 s it is still invisible, at 30 s it is visible
//! again, behind message 2, which has waited since 0 s. A receive of two at 30 s gets message 2
//! (first delivery) and message 1 (receive count 2, a redelivery, receipt 2); the stale receipt 1
//! cannot delete message 1, receipt 2 can. Had message 1 been poison and never deleted, receives
//! at 30 s and 60 s would deliver it a second and third time, and the one at 90 s would move it to
//! the dead-letter list.
//!
//! Sources: Amazon SQS Developer Guide, "Amazon SQS visibility timeout",
//! <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html>,
//! and "Using dead-letter queues in Amazon SQS",
//! <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html>;
//! Amazon SQS API Reference, `ReceiveMessage`, `DeleteMessage`, `ChangeMessageVisibility`.

use alloc::collections::BTreeSet;

use crate::prelude::*;
use crate::time::{SimDuration, SimTime};

/// Most messages one receive delivers: the largest batch an AWS Lambda SQS event source may ask
/// for on a standard queue (10 000; `ReceiveMessage` itself returns at most 10).
pub const RECEIVE_MESSAGES_MAX: u32 = 10_000;

/// How a broker treats its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrokerConfig {
    /// How long a received message stays invisible to other receives (SQS default 30 s, at most
    /// 12 h).
    pub visibility_timeout: SimDuration,
    /// Redrive policy: deliveries allowed before the next receive attempt moves the message to the
    /// dead-letter list. `None`: no redrive policy, never dead-letter.
    pub max_receive_count: Option<u32>,
    /// How long a message is kept after its send, whatever its state (SQS default 4 days; 60 s to
    /// 14 days).
    pub retention: SimDuration,
}

impl BrokerConfig {
    /// SQS defaults: visibility timeout 30 s, retention 4 days (345 600 s), no redrive policy.
    pub fn sqs_default() -> Self {
        BrokerConfig {
            visibility_timeout: SimDuration::from_secs(30),
            max_receive_count: None,
            retention: SimDuration::from_secs(4 * 24 * 3_600),
        }
    }
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self::sqs_default()
    }
}

/// A message's identity, assigned in send order from 0; ties between messages are broken by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(pub u64);

/// One delivery of a message to a consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    pub id: MessageId,
    /// The request (idempotency) id the producer sent, so the simulator can spot duplicates.
    pub key: u64,
    /// Processing this message always fails.
    pub poison: bool,
    pub sent_at: SimTime,
    /// Deliveries of this message so far, this one included (SQS `ApproximateReceiveCount`); more
    /// than 1 means a redelivery.
    pub receive_count: u32,
    /// The handle that deletes or releases this delivery; only the latest delivery's is valid.
    pub receipt: u32,
}

/// A message moved to the dead-letter list, for the simulator to forward to the DLQ node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeadLettered {
    pub id: MessageId,
    pub key: u64,
    pub poison: bool,
    /// The original send time; a standard DLQ's retention counts from it.
    pub sent_at: SimTime,
    /// Deliveries before the move (the configured `max_receive_count`).
    pub receive_count: u32,
    /// When the receive attempt that moved it happened.
    pub dead_lettered_at: SimTime,
}

/// What a broker has done since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BrokerCounters {
    /// Messages sent.
    pub sent: u64,
    /// Deliveries, redeliveries included.
    pub received: u64,
    /// Deliveries of a message received before (receive count above 1).
    pub redeliveries: u64,
    /// Messages deleted by a consumer.
    pub deleted: u64,
    /// Messages moved to the dead-letter list.
    pub dead_lettered: u64,
    /// Messages dropped at the end of the retention period.
    pub expired: u64,
}

/// An SQS-like standard queue. See the module documentation for its rules.
#[derive(Clone, Debug)]
pub struct Broker {
    config: BrokerConfig,
    /// The latest time any call brought the broker to; time never moves back.
    now: SimTime,
    next_id: u64,
    /// Every message held, by id. Ids grow with the send and time never moves back, so this is
    /// also the order of `sent_at`: the first entry is the next to reach the end of retention.
    messages: BTreeMap<u64, Message>,
    /// Visible messages in delivery order: (when it became visible, id).
    visible_by_since: BTreeSet<(SimTime, u64)>,
    /// Visible messages by id, i.e. by send time, for the age of the oldest one.
    visible_by_id: BTreeSet<u64>,
    /// In-flight messages by (visibility deadline, id).
    in_flight_by_until: BTreeSet<(SimTime, u64)>,
    /// Moved to the dead-letter list and not yet taken.
    dead_lettered: Vec<DeadLettered>,
    counters: BrokerCounters,
}

#[derive(Clone, Copy, Debug)]
struct Message {
    key: u64,
    poison: bool,
    sent_at: SimTime,
    receive_count: u32,
    place: Place,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Can be received; visible since `since`.
    Visible { since: SimTime },
    /// Received and invisible until `until`.
    InFlight { until: SimTime },
}

impl Broker {
    /// An empty broker at time 0.
    pub fn new(config: BrokerConfig) -> Self {
        Broker {
            config,
            now: SimTime::ZERO,
            next_id: 0,
            messages: BTreeMap::new(),
            visible_by_since: BTreeSet::new(),
            visible_by_id: BTreeSet::new(),
            in_flight_by_until: BTreeSet::new(),
            dead_lettered: Vec::new(),
            counters: BrokerCounters::default(),
        }
    }

    /// The configuration it was created with.
    pub fn config(&self) -> BrokerConfig {
        self.config
    }

    /// A producer sends a message at `now`: visible at once. `key` is the request (idempotency) id
    /// the simulator tracks; `poison` marks a message whose processing always fails.
    pub fn send(&mut self, now: SimTime, key: u64, poison: bool) -> MessageId {
        self.advance(now);
        let id = self.next_id;
        // 2^64 sends would take centuries of simulated sends at one per nanosecond.
        self.next_id = self.next_id.saturating_add(1);
        let sent_at = self.now;
        self.messages
            .insert(id, Message { key, poison, sent_at, receive_count: 0, place: Place::Visible { since: sent_at } });
        self.visible_by_since.insert((sent_at, id));
        self.visible_by_id.insert(id);
        self.counters.sent += 1;
        MessageId(id)
    }

    /// A consumer receives up to `max` visible messages (at most [`RECEIVE_MESSAGES_MAX`]), in the
    /// order they became visible, ties by id. Each becomes invisible until
    /// `now + visibility_timeout` and its receive count goes up by one. A message whose receive
    /// count has already reached `max_receive_count` is not delivered: it moves to the dead-letter
    /// list and the receive goes on with the next visible message.
    pub fn receive(&mut self, now: SimTime, max: u32) -> Vec<Received> {
        self.advance(now);
        let now = self.now;
        let wanted = max.min(RECEIVE_MESSAGES_MAX) as usize;
        let mut delivered = Vec::with_capacity(wanted.min(self.visible_by_since.len()));
        while delivered.len() < wanted {
            let Some((_, id)) = self.visible_by_since.pop_first() else { break };
            self.visible_by_id.remove(&id);
            let Some(message) = self.messages.get_mut(&id) else { continue };
            if self.config.max_receive_count.is_some_and(|max_count| message.receive_count >= max_count) {
                let message = *message;
                self.messages.remove(&id);
                self.dead_lettered.push(DeadLettered {
                    id: MessageId(id),
                    key: message.key,
                    poison: message.poison,
                    sent_at: message.sent_at,
                    receive_count: message.receive_count,
                    dead_lettered_at: now,
                });
                self.counters.dead_lettered += 1;
                continue;
            }
            message.receive_count = message.receive_count.saturating_add(1);
            let until = now + self.config.visibility_timeout;
            message.place = Place::InFlight { until };
            self.in_flight_by_until.insert((until, id));
            self.counters.received += 1;
            if message.receive_count > 1 {
                self.counters.redeliveries += 1;
            }
            delivered.push(Received {
                id: MessageId(id),
                key: message.key,
                poison: message.poison,
                sent_at: message.sent_at,
                receive_count: message.receive_count,
                receipt: message.receive_count,
            });
        }
        delivered
    }

    /// Deletes a message after successful processing; returns whether it was deleted. Only the
    /// latest delivery's receipt deletes (SQS: a stale receipt handle may not delete the message);
    /// it still does after the visibility timeout ended, until the next delivery. A message gone
    /// already (deleted, expired, dead-lettered) is not deleted again. Acts on the state as of the
    /// last call that took a `now`.
    pub fn delete(&mut self, id: MessageId, receipt: u32) -> bool {
        let Some(message) = self.messages.get(&id.0) else { return false };
        if receipt == 0 || receipt != message.receive_count {
            return false;
        }
        let place = message.place;
        self.unindex(id.0, place);
        self.messages.remove(&id.0);
        self.counters.deleted += 1;
        true
    }

    /// Ends an in-flight message's invisibility `delay` from `now` (`ChangeMessageVisibility`;
    /// 0 = visible now, behind the messages already visible), e.g. for the failed messages of a
    /// partial batch response. Returns whether it took effect: a stale receipt, or a message not in
    /// flight (already visible again, or gone), is ignored, as SQS refuses it.
    pub fn release(&mut self, now: SimTime, id: MessageId, receipt: u32, delay: SimDuration) -> bool {
        self.advance(now);
        let now = self.now;
        let Some(message) = self.messages.get_mut(&id.0) else { return false };
        let Place::InFlight { until } = message.place else { return false };
        if receipt == 0 || receipt != message.receive_count {
            return false;
        }
        self.in_flight_by_until.remove(&(until, id.0));
        if delay == SimDuration::ZERO {
            message.place = Place::Visible { since: now };
            self.visible_by_since.insert((now, id.0));
            self.visible_by_id.insert(id.0);
        } else {
            let until = now + delay;
            message.place = Place::InFlight { until };
            self.in_flight_by_until.insert((until, id.0));
        }
        true
    }

    /// Brings the broker to `now`: in-flight messages whose visibility ended become visible again,
    /// each as of its own deadline, in deadline order (a redelivery when received next); messages
    /// whose age reached the retention period are dropped, visible or in flight.
    pub fn advance(&mut self, now: SimTime) {
        self.now = self.now.max(now);
        let now = self.now;
        while let Some(&(until, id)) = self.in_flight_by_until.first() {
            if until > now {
                break;
            }
            self.in_flight_by_until.pop_first();
            if let Some(message) = self.messages.get_mut(&id) {
                message.place = Place::Visible { since: until };
                self.visible_by_since.insert((until, id));
                self.visible_by_id.insert(id);
            }
        }
        while let Some((&id, message)) = self.messages.first_key_value() {
            if message.sent_at + self.config.retention > now {
                break;
            }
            let place = message.place;
            self.unindex(id, place);
            self.messages.remove(&id);
            self.counters.expired += 1;
        }
    }

    /// When [`Self::advance`] next has something to do: the earliest visibility deadline or
    /// retention expiry, whichever comes first; `None` when no message is held. The simulator
    /// schedules a wake-up for it instead of polling.
    pub fn next_change_at(&self) -> Option<SimTime> {
        let visibility_ends = self.in_flight_by_until.first().map(|&(until, _)| until);
        let retention_ends =
            self.messages.first_key_value().map(|(_, message)| message.sent_at + self.config.retention);
        match (visibility_ends, retention_ends) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Messages moved to the dead-letter list since the last call, in the order they were moved.
    pub fn take_dead_lettered(&mut self) -> Vec<DeadLettered> {
        core::mem::take(&mut self.dead_lettered)
    }

    /// Messages that can be received now (SQS `ApproximateNumberOfMessagesVisible`).
    pub fn visible(&self) -> u32 {
        saturating_u32(self.visible_by_since.len())
    }

    /// Messages received and neither deleted nor visible again (SQS
    /// `ApproximateNumberOfMessagesNotVisible`).
    pub fn in_flight(&self) -> u32 {
        saturating_u32(self.in_flight_by_until.len())
    }

    /// Age at `now` of the earliest-sent visible message, from its send (SQS
    /// `ApproximateAgeOfOldestMessage`, restricted to what is waiting); `None` when none is visible.
    pub fn oldest_visible_age(&self, now: SimTime) -> Option<SimDuration> {
        let id = self.visible_by_id.first()?;
        self.messages.get(id).map(|message| now.since(message.sent_at))
    }

    /// Totals since creation.
    pub fn counters(&self) -> BrokerCounters {
        self.counters
    }

    /// Removes a held message from the index of its place.
    fn unindex(&mut self, id: u64, place: Place) {
        match place {
            Place::Visible { since } => {
                self.visible_by_since.remove(&(since, id));
                self.visible_by_id.remove(&id);
            }
            Place::InFlight { until } => {
                self.in_flight_by_until.remove(&(until, id));
            }
        }
    }
}

fn saturating_u32(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{NS_PER_MS, NS_PER_S};

    /// One step of a worked sequence; each happens at the step's time where it takes one.
    #[derive(Clone, Copy, Debug)]
    enum Step {
        /// `send(key, poison)`; the id must be the number of sends before it.
        Send(u64, bool),
        /// `receive(max)` must deliver these (id, receive count), in order; receipts are the counts.
        Receive(u32, &'static [(u64, u32)]),
        /// `delete(id, receipt)` must return this.
        Delete(u64, u32, bool),
        /// `release(id, receipt, delay_ns)` must return this.
        Release(u64, u32, u64, bool),
        Advance,
        /// `(visible(), in_flight())` must be these.
        Counts(u32, u32),
        /// `next_change_at()` in nanoseconds must be this.
        NextChange(Option<u64>),
        /// `oldest_visible_age(now)` in nanoseconds must be this.
        OldestAge(Option<u64>),
        /// `take_dead_lettered()` must return these ids.
        DeadLetters(&'static [u64]),
        /// `counters()` must be these.
        Totals(BrokerCounters),
    }
    use Step::*;

    const fn ms(milliseconds: u64) -> u64 {
        milliseconds * NS_PER_MS
    }
    const fn s(seconds: u64) -> u64 {
        seconds * NS_PER_S
    }
    const fn totals(sent: u64, received: u64, redeliveries: u64, deleted: u64, dead: u64, expired: u64) -> Step {
        Totals(BrokerCounters { sent, received, redeliveries, deleted, dead_lettered: dead, expired })
    }
    fn config(max_receive_count: Option<u32>, retention: SimDuration) -> BrokerConfig {
        BrokerConfig { max_receive_count, retention, ..BrokerConfig::sqs_default() }
    }

    /// Runs `(at_ns, step)` steps in order on a fresh broker, checking every result and, after each
    /// step, the broker's internal consistency.
    fn check(config: BrokerConfig, steps: &[(u64, Step)]) {
        let mut broker = Broker::new(config);
        let mut sends = 0;
        for (line, &(at_ns, step)) in steps.iter().enumerate() {
            let now = SimTime(at_ns);
            let place = format!("step {line} ({step:?} at {at_ns} ns)");
            match step {
                Send(key, poison) => {
                    assert_eq!(broker.send(now, key, poison), MessageId(sends), "{place}");
                    sends += 1;
                }
                Receive(max, expected) => {
                    let got: Vec<(u64, u32)> = broker
                        .receive(now, max)
                        .iter()
                        .map(|received| {
                            assert_eq!(received.receipt, received.receive_count, "{place}");
                            (received.id.0, received.receive_count)
                        })
                        .collect();
                    assert_eq!(got, expected, "{place}");
                }
                Delete(id, receipt, expected) => {
                    assert_eq!(broker.delete(MessageId(id), receipt), expected, "{place}")
                }
                Release(id, receipt, delay_ns, expected) => {
                    let done = broker.release(now, MessageId(id), receipt, SimDuration(delay_ns));
                    assert_eq!(done, expected, "{place}");
                }
                Advance => broker.advance(now),
                Counts(visible, in_flight) => {
                    assert_eq!((broker.visible(), broker.in_flight()), (visible, in_flight), "{place}")
                }
                NextChange(expected) => assert_eq!(broker.next_change_at(), expected.map(SimTime), "{place}"),
                OldestAge(expected) => {
                    assert_eq!(broker.oldest_visible_age(now), expected.map(SimDuration), "{place}")
                }
                DeadLetters(expected) => {
                    let ids: Vec<u64> = broker.take_dead_lettered().iter().map(|dead| dead.id.0).collect();
                    assert_eq!(ids, expected, "{place}");
                }
                Totals(expected) => assert_eq!(broker.counters(), expected, "{place}"),
            }
            assert_consistent(&broker, &place);
        }
    }

    /// The indexes agree with the messages, and `next_change_at` is the earliest pending change,
    /// found here by scanning every message.
    fn assert_consistent(broker: &Broker, place: &str) {
        let mut visible = 0;
        let mut in_flight = 0;
        let mut earliest: Option<SimTime> = None;
        let mut previous_sent_at = SimTime::ZERO;
        for (&id, message) in &broker.messages {
            assert!(message.sent_at >= previous_sent_at, "{place}: sends out of order");
            previous_sent_at = message.sent_at;
            let mut change = message.sent_at + broker.config.retention;
            match message.place {
                Place::Visible { since } => {
                    visible += 1;
                    assert!(broker.visible_by_since.contains(&(since, id)), "{place}: {id} not indexed");
                    assert!(broker.visible_by_id.contains(&id), "{place}: {id} not indexed by id");
                }
                Place::InFlight { until } => {
                    in_flight += 1;
                    assert!(broker.in_flight_by_until.contains(&(until, id)), "{place}: {id} not indexed");
                    change = change.min(until);
                }
            }
            earliest = Some(earliest.map_or(change, |earliest| earliest.min(change)));
        }
        assert_eq!(broker.visible_by_since.len(), visible, "{place}");
        assert_eq!(broker.visible_by_id.len(), visible, "{place}");
        assert_eq!(broker.in_flight_by_until.len(), in_flight, "{place}");
        assert_eq!(broker.next_change_at(), earliest, "{place}");
    }

    /// The module example: delivery, deletion, the visibility deadline to the nanosecond, the order
    /// of a redelivery, and stale receipts.
    #[test]
    fn worked_sequence() {
        check(
            BrokerConfig::sqs_default(),
            &[
                (0, NextChange(None)),
                (0, Send(100, false)),
                (0, Send(101, false)),
                (0, Send(102, false)),
                (0, Counts(3, 0)),
                (0, NextChange(Some(s(4 * 24 * 3_600)))),
                (0, Receive(2, &[(0, 1), (1, 1)])),
                (0, Counts(1, 2)),
                (0, NextChange(Some(s(30)))),
                (0, Delete(0, 1, true)),
                (0, Delete(0, 1, false)),
                (0, Counts(1, 1)),
                // Invisible up to the last nanosecond before the deadline, visible at it.
                (s(30) - 1, Advance),
                (s(30) - 1, Counts(1, 1)),
                (s(30) - 1, Receive(10, &[(2, 1)])),
                (s(30) - 1, Counts(0, 2)),
                (s(30), Advance),
                (s(30), Counts(1, 1)),
                (s(30), OldestAge(Some(s(30)))),
                (s(30), Receive(10, &[(1, 2)])),
                // The first receipt is stale now; the second deletes.
                (s(31), Delete(1, 1, false)),
                (s(31), Release(1, 1, 0, false)),
                (s(31), Counts(0, 2)),
                (s(31), Delete(1, 2, true)),
                (s(31), Delete(2, 1, true)),
                (s(31), Counts(0, 0)),
                (s(31), NextChange(None)),
                (s(31), OldestAge(None)),
                (s(31), totals(3, 4, 1, 3, 0, 0)),
            ],
        );
    }

    /// A redelivered message rejoins the line when its timeout ended, behind messages visible
    /// before it, even when `advance` notices late; fresh messages go in send order.
    #[test]
    fn redeliveries_rejoin_at_the_back() {
        check(
            BrokerConfig::sqs_default(),
            &[
                (0, Send(0, true)),
                (0, Receive(1, &[(0, 1)])),
                (s(10), Send(1, false)),
                (s(40), Send(2, false)),
                // Message 0 became visible at 30 s: after message 1 (10 s), before message 2 (40 s).
                (s(50), Receive(10, &[(1, 1), (0, 2), (2, 1)])),
                // Released at once: behind everything visible at that instant.
                (s(51), Send(3, false)),
                (s(52), Release(0, 2, 0, true)),
                (s(52), Send(4, false)),
                (s(52), Counts(3, 2)),
                (s(52), OldestAge(Some(s(52)))),
                (s(53), Receive(10, &[(3, 1), (0, 3), (4, 1)])),
                (s(53), totals(5, 7, 2, 0, 0, 0)),
            ],
        );
    }

    /// maxReceiveCount 3: three deliveries, then the fourth receive attempt moves the message to
    /// the dead-letter list without spending a place of the batch; it is handed over once.
    #[test]
    fn poison_message_is_dead_lettered_on_the_fourth_attempt() {
        check(
            config(Some(3), SimDuration::from_secs(4 * 24 * 3_600)),
            &[
                (0, Send(7, true)),
                (0, Receive(10, &[(0, 1)])),
                (s(30), Receive(10, &[(0, 2)])),
                (s(60), Receive(1, &[(0, 3)])),
                (s(60), DeadLetters(&[])),
                // Visible again at 90 s, ahead of message 1 (same instant, lower id). The attempt
                // finds it at the count: moved, and message 1 delivered in the same batch of one.
                (s(90), Send(8, false)),
                (s(90), Receive(1, &[(1, 1)])),
                (s(90), Counts(0, 1)),
                (s(90), Delete(0, 3, false)),
                (s(90), DeadLetters(&[0])),
                (s(90), DeadLetters(&[])),
                (s(90), Delete(1, 1, true)),
                (s(90), NextChange(None)),
                (s(90), totals(2, 4, 2, 1, 1, 0)),
            ],
        );
        // Without a redrive policy it comes back forever.
        let mut broker = Broker::new(BrokerConfig::sqs_default());
        broker.send(SimTime::ZERO, 7, true);
        for index in 0..50u32 {
            let delivered = broker.receive(SimTime(s(30) * u64::from(index)), 10);
            assert_eq!(delivered.len(), 1, "receive {index}");
            assert_eq!(delivered[0].receive_count, index + 1);
        }
        assert!(broker.take_dead_lettered().is_empty());
        // What the simulator forwards keeps the original send and the count.
        let mut broker = Broker::new(config(Some(1), SimDuration::from_secs(3_600)));
        broker.send(SimTime(s(5)), 42, true);
        broker.receive(SimTime(s(5)), 1);
        assert!(broker.receive(SimTime(s(40)), 1).is_empty());
        let expected = DeadLettered {
            id: MessageId(0),
            key: 42,
            poison: true,
            sent_at: SimTime(s(5)),
            receive_count: 1,
            dead_lettered_at: SimTime(s(40)),
        };
        assert_eq!(broker.take_dead_lettered(), vec![expected]);
    }

    /// Retention counts from the send: a message is dropped when its age reaches the retention
    /// period, in flight or not, and counted as expired.
    #[test]
    fn retention_drops_old_messages() {
        check(
            config(None, SimDuration::from_secs(60)),
            &[
                (0, Send(0, false)),
                (s(10), Send(1, false)),
                (s(20), Receive(1, &[(0, 1)])),
                (s(20), NextChange(Some(s(50)))),
                (s(20), OldestAge(Some(s(10)))),
                (s(50), Advance),
                (s(50), Counts(2, 0)),
                (s(50), OldestAge(Some(s(50)))),
                (s(50), NextChange(Some(s(60)))),
                (s(60) - 1, Advance),
                (s(60) - 1, Counts(2, 0)),
                (s(60), Advance),
                (s(60), Counts(1, 0)),
                (s(60), OldestAge(Some(s(50)))),
                (s(60), Delete(0, 1, false)),
                // Message 1 expires at 70 s while a consumer holds it.
                (s(60), Receive(10, &[(1, 1)])),
                (s(60), NextChange(Some(s(70)))),
                (s(70), Advance),
                (s(70), Counts(0, 0)),
                (s(70), Delete(1, 1, false)),
                (s(70), NextChange(None)),
                (s(70), totals(2, 2, 0, 0, 0, 2)),
            ],
        );
    }

    /// ChangeMessageVisibility: delay 0 makes a message visible at once, a delay postpones its
    /// return; stale receipts and messages not in flight are ignored; the latest receipt deletes
    /// a message visible again until the next delivery.
    #[test]
    fn release_changes_visibility() {
        check(
            BrokerConfig::sqs_default(),
            &[
                (0, Send(0, false)),
                (0, Send(1, false)),
                (0, Receive(2, &[(0, 1), (1, 1)])),
                (s(5), Release(0, 1, 0, true)),
                (s(5), Counts(1, 1)),
                (s(5), Release(0, 1, 0, false)),
                (s(5), Receive(1, &[(0, 2)])),
                (s(6), Release(0, 1, s(1), false)),
                (s(6), Release(1, 1, s(10), true)),
                (s(6), NextChange(Some(s(16)))),
                (s(16) - 1, Advance),
                (s(16) - 1, Counts(0, 2)),
                (s(16), Advance),
                (s(16), Counts(1, 1)),
                (s(16), NextChange(Some(s(35)))),
                // Visible again, not yet delivered again: its latest receipt still deletes it.
                (s(16), Release(1, 1, 0, false)),
                (s(16), Delete(1, 1, true)),
                (s(16), Release(7, 1, 0, false)),
                (s(16), Delete(7, 1, false)),
                // A message never received has no receipt.
                (s(17), Send(2, false)),
                (s(17), Delete(2, 0, false)),
                (s(17), totals(3, 3, 1, 1, 0, 0)),
            ],
        );
    }

    /// Edge cases of time and configuration: a `now` earlier than one seen acts at the latest time;
    /// a zero visibility timeout redelivers on the next receive but not within the same one;
    /// max_receive_count 0 dead-letters at the first attempt; saturating durations never panic.
    #[test]
    fn degenerate_times_and_configs() {
        check(
            BrokerConfig { visibility_timeout: SimDuration::ZERO, ..BrokerConfig::sqs_default() },
            &[
                (s(100), Advance),
                (s(50), Send(0, false)),
                (s(50), OldestAge(Some(0))),
                (s(50), Receive(10, &[(0, 1)])),
                (s(50), Receive(10, &[(0, 2)])),
                (s(200), Receive(10, &[(0, 3)])),
                (s(200), Delete(0, 3, true)),
            ],
        );
        check(
            config(Some(0), SimDuration::from_secs(60)),
            &[(0, Send(0, false)), (0, Receive(10, &[])), (0, DeadLetters(&[0])), (0, totals(1, 0, 0, 0, 1, 0))],
        );
        check(
            BrokerConfig {
                visibility_timeout: SimDuration(u64::MAX),
                max_receive_count: None,
                retention: SimDuration::ZERO,
            },
            &[
                // Expired on arrival: pending until the next call that takes a time.
                (0, Send(0, false)),
                (0, Counts(1, 0)),
                (0, NextChange(Some(0))),
                (0, Advance),
                (0, Counts(0, 0)),
                (0, NextChange(None)),
                (0, totals(1, 0, 0, 0, 0, 1)),
            ],
        );
        check(
            BrokerConfig {
                visibility_timeout: SimDuration(u64::MAX),
                max_receive_count: None,
                retention: SimDuration(u64::MAX),
            },
            &[
                (s(1), Send(0, false)),
                (s(1), Receive(u32::MAX, &[(0, 1)])),
                (s(1), NextChange(Some(u64::MAX))),
                (u64::MAX, Advance),
                (u64::MAX, totals(1, 1, 0, 0, 0, 1)),
            ],
        );
    }

    /// 10^5 messages through batches, deletions, failures and redeliveries: every operation touches
    /// only the messages it moves, so this is about a million index operations. A scan of all held
    /// messages per call would be some 10^10 and not finish.
    #[test]
    fn many_messages_stay_cheap() {
        const MESSAGES: u64 = 100_000;
        let mut broker = Broker::new(config(Some(2), SimDuration::from_secs(4 * 24 * 3_600)));
        for index in 0..MESSAGES {
            broker.send(SimTime(index * ms(1)), index, index % 10 == 0);
        }
        assert_eq!(broker.visible(), MESSAGES as u32);
        let mut now = SimTime(MESSAGES * ms(1));
        let mut dead = 0;
        while broker.next_change_at().is_some() && now.0 < s(100_000) {
            for received in broker.receive(now, 10) {
                if received.poison {
                    // A failed message in a partial batch response: back in a second.
                    broker.release(now, received.id, received.receipt, SimDuration::from_secs(1));
                } else {
                    assert!(broker.delete(received.id, received.receipt));
                }
            }
            dead += broker.take_dead_lettered().len() as u64;
            now += SimDuration::from_ms(1);
            if broker.visible() == 0 {
                if let Some(next) = broker.next_change_at() {
                    now = now.max(next);
                }
            }
        }
        let counters = broker.counters();
        assert_eq!(dead, MESSAGES / 10);
        assert_eq!(counters.deleted, MESSAGES - MESSAGES / 10);
        assert_eq!(counters.dead_lettered, MESSAGES / 10);
        assert_eq!(counters.redeliveries, MESSAGES / 10);
        assert_eq!(counters.received, MESSAGES + MESSAGES / 10);
        assert_eq!((broker.visible(), broker.in_flight(), broker.next_change_at()), (0, 0, None));
    }

    /// The same calls give the same deliveries, in the same order; and a long pseudo-random mix
    /// of every call keeps the indexes consistent and `next_change_at` the earliest change.
    #[test]
    fn deterministic_and_consistent_under_a_mixed_load() {
        let run = || {
            let mut broker = Broker::new(config(Some(3), SimDuration::from_secs(120)));
            let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
            let mut held: Vec<Received> = Vec::new();
            let mut log = Vec::new();
            let mut now = SimTime::ZERO;
            for step in 0..5_000u64 {
                // xorshift64*: a fixed pseudo-random sequence, no crate needed.
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                let draw = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32;
                now += SimDuration::from_ms(draw % 3_000);
                match draw % 8 {
                    0 => {
                        broker.send(now, step, draw % 5 == 0);
                    }
                    // Consumers stop for a while now and then, so the backlog outlives its retention.
                    1 | 2 if step / 500 % 3 != 2 => {
                        let batch = broker.receive(now, (draw % 4) as u32);
                        log.extend(batch.iter().copied());
                        held.extend(batch);
                    }
                    3 | 4 if !held.is_empty() => {
                        let received = held.swap_remove((draw as usize / 7) % held.len());
                        broker.delete(received.id, received.receipt);
                    }
                    5 if !held.is_empty() => {
                        let received = held.swap_remove((draw as usize / 7) % held.len());
                        let delay = SimDuration::from_ms((draw / 11) % 3 * 10_000);
                        broker.release(now, received.id, received.receipt, delay);
                    }
                    _ => broker.advance(now),
                }
                assert_consistent(&broker, &format!("step {step}"));
            }
            (log, broker.take_dead_lettered(), broker.counters())
        };
        let first = run();
        assert_eq!(first, run());
        let (log, dead, counters) = first;
        assert!(counters.redeliveries > 0 && counters.expired > 0 && !dead.is_empty(), "{counters:?}");
        assert!(log.iter().all(|received| received.receive_count <= 3));
    }
}
