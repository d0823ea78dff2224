//! `POST /networks/prune`: remove the user networks no container uses.

use super::NetworkService;
use crate::network::store::NetworkRecord;

impl NetworkService {
    /// `POST /networks/prune`: user networks no container uses. Returns the names removed.
    pub fn prune(&self, keep: impl Fn(&NetworkRecord) -> bool) -> Vec<String> {
        let candidates: Vec<NetworkRecord> = {
            let state = self.lock();
            state
                .networks
                .values()
                .filter(|n| !n.predefined && Self::users(&state, &n.id).is_empty())
                .filter(|n| !keep(n))
                .cloned()
                .collect()
        };
        candidates
            .into_iter()
            .filter(|n| self.remove(&n.id).is_ok())
            .map(|n| n.name)
            .collect()
    }
}
