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

/// The nodes `0..count` in an order where every node comes after its dependencies, the
/// smallest ready node first (so the order is stable); `None` when there is a cycle.
pub fn topological_order(count: usize, dependencies: impl Fn(usize) -> Vec<usize>) -> Option<Vec<usize>> {
    let mut graph: DiGraph<(), ()> = DiGraph::with_capacity(count, count);
    let nodes: Vec<_> = (0..count).map(|_| graph.add_node(())).collect();
    for to in 0..count {
        for from in dependencies(to) {
            if let (Some(&a), Some(&b)) = (nodes.get(from), nodes.get(to)) {
                graph.update_edge(a, b, ());
            }
        }
    }
    let mut waiting: Vec<usize> = nodes
        .iter()
        .map(|&n| graph.neighbors_directed(n, petgraph::Direction::Incoming).count())
        .collect();
    let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<usize>> = (0..count)
        .filter(|&n| waiting.get(n) == Some(&0))
        .map(std::cmp::Reverse)
        .collect();
    let mut order = Vec::with_capacity(count);
    while let Some(std::cmp::Reverse(node)) = ready.pop() {
        order.push(node);
        let Some(&index) = nodes.get(node) else { continue };
        for next in graph.neighbors_directed(index, petgraph::Direction::Outgoing) {
            if let Some(w) = waiting.get_mut(next.index()) {
                *w -= 1;
                if *w == 0 {
                    ready.push(std::cmp::Reverse(next.index()));
                }
            }
        }
    }
    (order.len() == count).then_some(order)
}

/// The nodes `0..count`, each after its successors (depth-first, from the smallest node, without
/// recursion); on a cycle, the node that closes it comes first.
pub fn postorder(count: usize, successors: impl Fn(usize) -> Vec<usize>) -> Vec<usize> {
    let mut seen = vec![false; count];
    let mut order = Vec::with_capacity(count);
    for root in 0..count {
        if seen.get(root) != Some(&false) {
            continue;
        }
        seen[root] = true;
        let mut stack = vec![(root, successors(root), 0)];
        while let Some((node, next, at)) = stack.last_mut() {
            match next.get(*at).copied() {
                Some(succ) => {
                    *at += 1;
                    if seen.get(succ) == Some(&false) {
                        seen[succ] = true;
                        let succs = successors(succ);
                        stack.push((succ, succs, 0));
                    }
                }
                None => {
                    order.push(*node);
                    stack.pop();
                }
            }
        }
    }
    order
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
    fn orders_dependencies_first_and_stably() {
        let deps = [vec![2], vec![], vec![1]];
        assert_eq!(topological_order(3, |n| deps[n].clone()), Some(vec![1, 2, 0]));
        let cyclic = [vec![1], vec![0]];
        assert_eq!(topological_order(2, |n| cyclic[n].clone()), None);
    }

    #[test]
    fn postorder_puts_successors_first_without_recursion() {
        let edges = [vec![2], vec![0], vec![], vec![3]];
        assert_eq!(postorder(4, |n| edges[n].clone()), vec![2, 0, 1, 3]);
        let chain = postorder(1_000_000, |n| if n > 0 { vec![n - 1] } else { vec![] });
        assert_eq!(chain.len(), 1_000_000);
        assert_eq!(chain.first(), Some(&0));
    }

    #[test]
    fn finds_each_cycle_in_order() {
        let edges = [vec![1], vec![2], vec![0], vec![3], vec![]];
        let found = cycles(5, |n| edges[n].clone());
        assert_eq!(found, vec![vec![0, 1, 2], vec![3]]);
    }
}
