//! A radix heap: a monotone priority queue over integer keys (micrometres). Pushes are O(1);
//! a pop moves each item at most once per bit of the key range, so a shortest-path search costs
//! O(m + n log C) with small constants and no comparisons between items.

/// The bucket of `x = key ^ last`: 0 when equal, else one more than the highest differing bit.
#[inline]
fn bucket(x: u64) -> usize {
    (u64::BITS - x.leading_zeros()) as usize
}

/// A monotone min-queue: every pushed key must be at least the last popped key.
#[derive(Debug)]
pub(crate) struct RadixHeap<T> {
    last: u64,
    len: usize,
    buckets: Vec<Vec<(u64, T)>>,
}

impl<T: Copy> RadixHeap<T> {
    /// An empty queue.
    pub(crate) fn new() -> Self {
        Self { last: 0, len: 0, buckets: (0..=u64::BITS).map(|_| Vec::new()).collect() }
    }

    /// Empties the queue (keeping its allocations) and resets the monotone bound to 0.
    pub(crate) fn clear(&mut self) {
        for b in &mut self.buckets {
            b.clear();
        }
        self.last = 0;
        self.len = 0;
    }

    /// Number of queued items (stale duplicates included).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Queues `value` at `key` (`key` must not be below the last popped key).
    #[inline]
    pub(crate) fn push(&mut self, key: u64, value: T) {
        debug_assert!(key >= self.last, "radix heap keys must be monotone");
        let key = key.max(self.last);
        self.buckets[bucket(key ^ self.last)].push((key, value));
        self.len += 1;
    }

    /// Removes an item with the smallest key.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(u64, T)> {
        if self.buckets[0].is_empty() {
            let i = self.buckets.iter().position(|b| !b.is_empty())?;
            let mut items = std::mem::take(&mut self.buckets[i]);
            let min = items.iter().map(|x| x.0).min()?;
            self.last = min;
            for &(k, v) in &items {
                // Every item of bucket i agrees with `min` above bit i-1, so it lands lower.
                self.buckets[bucket(k ^ min)].push((k, v));
            }
            items.clear();
            self.buckets[i] = items;
        }
        let item = self.buckets[0].pop()?;
        self.len -= 1;
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn pops_in_key_order_with_interleaved_pushes() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut h = RadixHeap::new();
        let mut reference = std::collections::BinaryHeap::new();
        for i in 0..50u32 {
            let k = rng.random_range(0..1_000_000u64);
            h.push(k, i);
            reference.push(std::cmp::Reverse(k));
        }
        let mut last = 0;
        while let Some((k, _)) = h.pop() {
            assert!(k >= last);
            assert_eq!(Some(std::cmp::Reverse(k)), reference.pop());
            last = k;
            if rng.random_bool(0.5) && last < 2_000_000 {
                let nk = last + rng.random_range(0..10_000u64);
                h.push(nk, 0);
                reference.push(std::cmp::Reverse(nk));
            }
        }
        assert_eq!(h.len(), 0);
        assert!(reference.is_empty());
    }
}
