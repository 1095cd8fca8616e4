//! Union-find over record indices that never joins two different valid keys.

/// Union-find over record indices; each root remembers its cluster's valid
/// key so two different keys are never joined.
pub(super) struct UnionFind {
    parent: Vec<u32>,
    key: Vec<u128>,
}

impl UnionFind {
    pub(super) fn new(keys: &[u128]) -> UnionFind {
        UnionFind {
            parent: (0..keys.len() as u32).collect(),
            key: keys.to_vec(),
        }
    }

    pub(super) fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    /// Joins the clusters of `a` and `b`; false when they hold different keys.
    /// The lower root becomes the root of both, so a cluster's root is
    /// always its lowest record (cluster ids rely on it).
    pub(super) fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return true;
        }
        let (ka, kb) = (self.key[ra as usize], self.key[rb as usize]);
        if ka != 0 && kb != 0 && ka != kb {
            return false;
        }
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[hi as usize] = lo;
        self.key[lo as usize] = if ka != 0 { ka } else { kb };
        true
    }
}
