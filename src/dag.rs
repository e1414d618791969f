//! Graphs: the only module that uses petgraph.

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;

/// Every cycle of a directed graph over nodes `0..count`, one per strongly connected component,
/// each listed in edge order starting from its smallest node.
pub fn cycles(count: usize, successors: impl Fn(usize) -> Vec<usize>) -> Vec<Vec<usize>> {
    let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(count, count);
    let nodes: Vec<_> = (0..count).map(|_| graph.add_node(())).collect();
    for from in 0..count {
        for to in successors(from) {
            if let (Some(&a), Some(&b)) = (nodes.get(from), nodes.get(to)) {
                graph.add_edge(a, b, ());
            }
        }
    }
    let mut found: Vec<Vec<usize>> = tarjan_scc(&graph)
        .into_iter()
        .filter_map(|component| {
            let members: Vec<usize> = component.iter().map(|n| n.index()).collect();
            let start = *members.iter().min()?;
            let self_loop = successors(start).contains(&start);
            if members.len() == 1 && !self_loop {
                return None;
            }
            path_back(start, &members, &successors)
        })
        .collect();
    found.sort();
    found
}

/// A path from `start` back to itself through `members` (breadth-first, so the shortest).
fn path_back(start: usize, members: &[usize], successors: &impl Fn(usize) -> Vec<usize>) -> Option<Vec<usize>> {
    let mut parent: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        let mut next: Vec<usize> = successors(node).into_iter().filter(|n| members.contains(n)).collect();
        next.sort_unstable();
        for succ in next {
            if succ == start {
                let mut path = vec![node];
                let mut at = node;
                while at != start {
                    at = *parent.get(&at)?;
                    path.push(at);
                }
                path.reverse();
                return Some(path);
            }
            if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(succ) {
                e.insert(node);
                queue.push_back(succ);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_cycle_in_order() {
        let edges = [vec![1], vec![2], vec![0], vec![3], vec![]];
        let found = cycles(5, |n| edges[n].clone());
        assert_eq!(found, vec![vec![0, 1, 2], vec![3]]);
    }
}
