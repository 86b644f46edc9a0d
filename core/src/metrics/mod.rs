//! Run metrics: fixed-size time buckets and histograms, so memory follows the number of
//! buckets (bounded by [`crate::limits::BUCKETS_MAX`]), never the number of requests.

pub mod histogram;
pub mod recovery;
pub mod series;

pub use histogram::Histogram;
pub use series::{BalancerBucket, ClientBucket, EdgeBucket, QueueBucket, Series, ServiceBucket, SystemBucket};
