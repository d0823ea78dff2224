//! Services as a dependency graph (compose-go's `graph` and docker compose's `dependencies.go`):
//! a cycle is refused before anything runs, and work is done on every service as soon as what
//! it depends on is done, in parallel (`up`, `start`, `create`), or in the reverse order, a
//! service only after everything that depends on it (`down`, `stop`).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use futures_util::stream::{FuturesUnordered, StreamExt};

/// Services by name, each with the names it depends on.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    deps: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    /// The graph of `services`; a dependency on a service not in the list is dropped (the
    /// loader has already refused required ones).
    pub fn new<'a>(services: impl IntoIterator<Item = (&'a str, Vec<String>)>) -> Graph {
        let list: Vec<(&str, Vec<String>)> = services.into_iter().collect();
        let names: BTreeSet<&str> = list.iter().map(|(n, _)| *n).collect();
        let deps = list
            .iter()
            .map(|(n, d)| {
                let kept = d
                    .iter()
                    .filter(|x| names.contains(x.as_str()))
                    .cloned()
                    .collect();
                (n.to_string(), kept)
            })
            .collect();
        Graph { deps }
    }

    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.deps.keys()
    }

    pub fn dependencies(&self, name: &str) -> impl Iterator<Item = &String> {
        self.deps.get(name).into_iter().flatten()
    }

    /// compose-go's `CheckCycle`: "dependency cycle detected: a -> b -> a".
    pub fn check_cycle(&self) -> Result<(), String> {
        fn search(g: &Graph, path: &mut Vec<String>) -> Result<(), String> {
            let here = path.last().cloned().unwrap_or_default();
            for child in g.dependencies(&here) {
                if let Some(i) = path.iter().position(|p| p == child) {
                    return Err(format!(
                        "dependency cycle detected: {} -> {child}",
                        path[i..].join(" -> ")
                    ));
                }
                path.push(child.clone());
                search(g, path)?;
                path.pop();
            }
            Ok(())
        }
        for name in self.deps.keys() {
            search(self, &mut vec![name.clone()])?;
        }
        Ok(())
    }

    /// `names` and everything they depend on, transitively.
    pub fn with_dependencies(&self, names: &[String]) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut todo: Vec<String> = names.to_vec();
        while let Some(n) = todo.pop() {
            if out.insert(n.clone()) {
                todo.extend(self.dependencies(&n).cloned());
            }
        }
        out
    }

    /// The services that depend on `name`, transitively.
    pub fn dependents(&self, name: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut todo = vec![name.to_string()];
        while let Some(n) = todo.pop() {
            for (s, d) in &self.deps {
                if d.contains(&n) && out.insert(s.clone()) {
                    todo.push(s.clone());
                }
            }
        }
        out
    }

    /// The graph restricted to `keep` (edges to services outside it dropped).
    pub fn subset(&self, keep: &BTreeSet<String>) -> Graph {
        Graph {
            deps: self
                .deps
                .iter()
                .filter(|(n, _)| keep.contains(*n))
                .map(|(n, d)| (n.clone(), d.intersection(keep).cloned().collect()))
                .collect(),
        }
    }

    /// Run `visit` on every service once all its dependencies were visited, as many at a time
    /// as are ready. The first error stops new visits; those running are awaited.
    pub async fn in_dependency_order<E, F, Fut>(&self, visit: F) -> Result<(), E>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        let before = |n: &str| -> Vec<String> { self.dependencies(n).cloned().collect() };
        self.traverse(before, visit).await
    }

    /// Run `visit` on every service once everything depending on it was visited.
    pub async fn in_reverse_dependency_order<E, F, Fut>(&self, visit: F) -> Result<(), E>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        let before = |n: &str| -> Vec<String> {
            self.deps
                .iter()
                .filter(|(_, d)| d.contains(n))
                .map(|(s, _)| s.clone())
                .collect()
        };
        self.traverse(before, visit).await
    }

    async fn traverse<E, B, F, Fut>(&self, before: B, visit: F) -> Result<(), E>
    where
        B: Fn(&str) -> Vec<String>,
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut started: BTreeSet<String> = BTreeSet::new();
        let mut running = FuturesUnordered::new();
        let mut failure = None;
        loop {
            if failure.is_none() {
                for name in self.deps.keys() {
                    if !started.contains(name) && before(name).iter().all(|d| done.contains(d)) {
                        started.insert(name.clone());
                        let n = name.clone();
                        let fut = visit(n.clone());
                        running.push(async move { (n, fut.await) });
                    }
                }
            }
            match running.next().await {
                None => break,
                Some((name, Ok(()))) => {
                    done.insert(name);
                }
                Some((_, Err(e))) => {
                    if failure.is_none() {
                        failure = Some(e);
                    }
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn graph(edges: &[(&'static str, &[&str])]) -> Graph {
        Graph::new(
            edges
                .iter()
                .map(|(n, d)| (*n, d.iter().map(|s| s.to_string()).collect())),
        )
    }

    #[test]
    fn cycles_are_named() {
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]);
        assert_eq!(
            g.check_cycle().unwrap_err(),
            "dependency cycle detected: a -> b -> c -> a"
        );
        assert!(graph(&[("a", &["b"]), ("b", &[])]).check_cycle().is_ok());
    }

    #[tokio::test]
    async fn visits_follow_dependencies_and_run_side_by_side() {
        let g = graph(&[("web", &["db", "cache"]), ("db", &[]), ("cache", &[])]);
        let log = Mutex::new(Vec::new());
        g.in_dependency_order(|n| {
            let log = &log;
            async move {
                log.lock().unwrap().push(format!("start {n}"));
                tokio::task::yield_now().await;
                log.lock().unwrap().push(format!("end {n}"));
                Ok::<(), ()>(())
            }
        })
        .await
        .unwrap();
        let log = log.into_inner().unwrap();
        // Both independent services start before either ends; web starts after both end.
        assert_eq!(&log[..2], ["start cache", "start db"]);
        assert_eq!(log.last().unwrap(), "end web");
        let web = log.iter().position(|l| l == "start web").unwrap();
        assert!(log[..web].contains(&"end db".to_string()));

        let order = Mutex::new(Vec::new());
        g.in_reverse_dependency_order(|n| {
            let order = &order;
            async move {
                order.lock().unwrap().push(n);
                Ok::<(), ()>(())
            }
        })
        .await
        .unwrap();
        assert_eq!(order.into_inner().unwrap()[0], "web");
    }

    #[tokio::test]
    async fn an_error_stops_what_depends_on_it() {
        let g = graph(&[("web", &["db"]), ("db", &[])]);
        let seen = Mutex::new(Vec::new());
        let r = g
            .in_dependency_order(|n| {
                let seen = &seen;
                async move {
                    seen.lock().unwrap().push(n.clone());
                    if n == "db" {
                        Err(format!("{n} failed"))
                    } else {
                        Ok(())
                    }
                }
            })
            .await;
        assert_eq!(r.unwrap_err(), "db failed");
        assert_eq!(seen.into_inner().unwrap(), vec!["db"]);
    }

    #[test]
    fn selections() {
        let g = graph(&[("web", &["db"]), ("db", &["vol"]), ("vol", &[]), ("x", &[])]);
        let sel = g.with_dependencies(&["web".into()]);
        assert_eq!(sel.len(), 3);
        assert_eq!(
            g.dependents("vol").into_iter().collect::<Vec<_>>(),
            vec!["db", "web"]
        );
    }
}
