//! A bounded memory of recently used (hotkey, nonce) pairs.
//!
//! Entries only need to live until a request carrying that nonce would be
//! refused as stale; after that the freshness check protects us. Expiry is
//! tracked in a queue ordered by insertion, which is also (almost) expiry
//! order, and pruned lazily on every insert.

use std::collections::{HashMap, VecDeque};

use super::AuthError;

/// Remembered nonces with their expiry times.
#[derive(Debug)]
pub struct ReplayCache {
    capacity: usize,
    seen: HashMap<([u8; 32], String), u64>,
    order: VecDeque<(u64, [u8; 32], String)>,
}

impl ReplayCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            seen: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Records `(hotkey, nonce)` until `expires_ms`. Refuses a pair already
    /// present and unexpired, and refuses new pairs when full of unexpired
    /// ones (failing closed: evicting a live entry would reopen a replay).
    pub fn insert(
        &mut self,
        hotkey: [u8; 32],
        nonce: &str,
        expires_ms: u64,
        now_ms: u64,
    ) -> Result<(), AuthError> {
        self.prune(now_ms);
        let key = (hotkey, nonce.to_string());
        if let Some(&exp) = self.seen.get(&key) {
            if exp > now_ms {
                return Err(AuthError::Replayed);
            }
        }
        if self.seen.len() >= self.capacity {
            self.prune_all(now_ms);
            if self.seen.len() >= self.capacity {
                return Err(AuthError::ReplayCacheFull);
            }
        }
        self.seen.insert(key.clone(), expires_ms);
        self.order.push_back((expires_ms, key.0, key.1));
        Ok(())
    }

    /// Drops expired entries from the front of the queue.
    fn prune(&mut self, now_ms: u64) {
        while let Some((exp, _, _)) = self.order.front() {
            if *exp > now_ms {
                break;
            }
            if let Some((exp, hk, nonce)) = self.order.pop_front() {
                let key = (hk, nonce);
                if self.seen.get(&key) == Some(&exp) {
                    self.seen.remove(&key);
                }
            }
        }
    }

    /// Drops every expired entry, wherever it is in the queue (insertion
    /// order is only roughly expiry order: send times may differ by the
    /// allowed skew).
    fn prune_all(&mut self, now_ms: u64) {
        self.seen.retain(|_, exp| *exp > now_ms);
        let seen = &self.seen;
        self.order
            .retain(|(exp, hk, nonce)| seen.get(&(*hk, nonce.clone())) == Some(exp));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_is_refused_until_expiry() {
        let mut c = ReplayCache::new(10);
        c.insert([1; 32], "n", 100, 0).unwrap();
        assert_eq!(c.insert([1; 32], "n", 100, 50), Err(AuthError::Replayed));
        // Same nonce from another hotkey is a different request.
        c.insert([2; 32], "n", 100, 50).unwrap();
        // After expiry the entry is gone (freshness now protects us).
        c.insert([1; 32], "n", 300, 100).unwrap();
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn full_cache_fails_closed_then_recovers() {
        let mut c = ReplayCache::new(2);
        c.insert([1; 32], "a", 100, 0).unwrap();
        c.insert([1; 32], "b", 50, 0).unwrap();
        assert_eq!(
            c.insert([1; 32], "c", 100, 10),
            Err(AuthError::ReplayCacheFull)
        );
        // "b" expired out of queue order: a full prune finds it.
        c.insert([1; 32], "c", 100, 60).unwrap();
        assert_eq!(c.insert([1; 32], "a", 100, 60), Err(AuthError::Replayed));
        assert!(!c.is_empty());
    }
}
