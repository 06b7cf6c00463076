//! Strongly connected components of a directed graph (Tarjan), and a shortest cycle through a
//! node of one.

use std::collections::{BTreeSet, VecDeque};

/// The components of more than one node of the graph of `n` nodes and `edges` (`edges[i]`: the
/// nodes `i` points at), each sorted, in the order of their smallest node.
pub fn components(n: usize, edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        edges: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &s.edges[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(i) if s.on_stack[w] => s.low[v] = s.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort_unstable();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out.sort();
    s.out
}

/// A shortest cycle through `start` that stays inside `component`: the nodes in order, from
/// `start` back to it (`[a, b, a]`).
pub fn cycle_through(start: usize, component: &[usize], edges: &[Vec<usize>]) -> Vec<usize> {
    let inside: BTreeSet<usize> = component.iter().copied().collect();
    let mut came_from = vec![None; edges.len()];
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in &edges[v] {
            if !inside.contains(&w) {
                continue;
            }
            if w == start {
                let mut path = vec![start, v];
                let mut at = v;
                while let Some(prev) = came_from[at] {
                    path.push(prev);
                    at = prev;
                }
                // [start, v, …, start] walked back: reversed, it runs forward.
                path.reverse();
                return path;
            }
            if came_from[w].is_none() && w != start {
                came_from[w] = Some(v);
                queue.push_back(w);
            }
        }
    }
    vec![start]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(n: usize, pairs: &[(usize, usize)]) -> Vec<Vec<usize>> {
        let mut edges = vec![Vec::new(); n];
        for &(a, b) in pairs {
            edges[a].push(b);
        }
        edges
    }

    #[test]
    fn components_of_more_than_one_node() {
        type Case<'a> = (usize, &'a [(usize, usize)], &'a [&'a [usize]]);
        let cases: &[Case<'_>] = &[
            (3, &[(0, 1), (1, 2)], &[]),
            (2, &[(0, 1), (1, 0)], &[&[0, 1]]),
            (5, &[(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 3)], &[&[0, 1, 2], &[3, 4]]),
            (3, &[(0, 0), (0, 1)], &[]),
            (4, &[(3, 2), (2, 1), (1, 3), (0, 1)], &[&[1, 2, 3]]),
        ];
        for (n, pairs, want) in cases {
            let got = components(*n, &graph(*n, pairs));
            let want: Vec<Vec<usize>> = want.iter().map(|c| c.to_vec()).collect();
            assert_eq!(got, want, "{pairs:?}");
        }
    }

    #[test]
    fn a_shortest_cycle_through_the_first_node() {
        // 0 → 1 → 2 → 0 and 0 → 3 → 0: the short one.
        let edges = graph(4, &[(0, 1), (1, 2), (2, 0), (0, 3), (3, 0)]);
        assert_eq!(cycle_through(0, &[0, 1, 2, 3], &edges), vec![0, 3, 0]);
        let edges = graph(3, &[(0, 1), (1, 2), (2, 0)]);
        assert_eq!(cycle_through(0, &[0, 1, 2], &edges), vec![0, 1, 2, 0]);
        assert_eq!(cycle_through(1, &[0, 1, 2], &edges), vec![1, 2, 0, 1]);
    }
}
