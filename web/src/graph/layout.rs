//! Where the event graph's nodes go: columns by call depth, rows ordered so lines cross
//! little, and ports that spread a node's lines over its side.
//!
//! ```text
//!   column 0      column 1         column 2           column 3
//!   clients  -->  load balancer -> pool member 0  --> what the pool calls
//!                               -> pool member 1
//! ```
//!
//! Everything here is in CSS pixels and pure (no canvas), so it is tested natively.

use crate::view::RunView;

/// A node's box, in CSS pixels from the canvas' top-left corner.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeBox {
    pub id: String,
    pub kind: String,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// Vertical distance between the centres of neighbouring nodes in this node's column.
    pub row_pitch: f64,
}

impl NodeBox {
    fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.x && x <= self.x + self.width && y >= self.y && y <= self.y + self.height
    }
    pub fn centre_y(&self) -> f64 {
        self.y + self.height / 2.0
    }
    pub fn is_balancer(&self) -> bool {
        self.kind == "load_balancer"
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    pub nodes: Vec<NodeBox>,
}

impl Layout {
    /// The id of the node under a point (CSS pixels), if any.
    pub fn node_at(&self, x: f64, y: f64) -> Option<&str> {
        self.nodes.iter().find(|node| node.contains(x, y)).map(|node| node.id.as_str())
    }
    pub fn position(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|node| node.id == id)
    }
}

/// A call edge as drawn: where it is written in the scenario (`nodes[0].calls[0]`) and its
/// line, from the caller's port to the callee's, in CSS pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeLine {
    pub path: String,
    pub start: (f64, f64),
    pub end: (f64, f64),
}

/// How far from an edge's line a click still picks it, in CSS pixels: about a fingertip's
/// half-width, and wider than the thickest edge (9.5 px) drawn.
pub const EDGE_HIT_CSS: f64 = 8.0;

/// The path of the edge whose line passes nearest a point (CSS pixels), within
/// [`EDGE_HIT_CSS`]; the first one drawn among equally near ones.
pub fn edge_at(lines: &[EdgeLine], x: f64, y: f64) -> Option<&str> {
    let mut best: Option<(f64, &str)> = None;
    for line in lines {
        let distance = distance_to_segment((x, y), line.start, line.end);
        if distance <= EDGE_HIT_CSS && best.is_none_or(|(nearest, _)| distance < nearest) {
            best = Some((distance, line.path.as_str()));
        }
    }
    best.map(|(_, path)| path)
}

/// Distance from a point to the segment between `start` and `end`.
fn distance_to_segment((x, y): (f64, f64), start: (f64, f64), end: (f64, f64)) -> f64 {
    let (dx, dy) = (end.0 - start.0, end.1 - start.1);
    let length_squared = dx * dx + dy * dy;
    let along = if length_squared > 0.0 {
        (((x - start.0) * dx + (y - start.1) * dy) / length_squared).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (near_x, near_y) = (start.0 + along * dx, start.1 + along * dy);
    ((x - near_x).powi(2) + (y - near_y).powi(2)).sqrt()
}

/// Room above the nodes for the time label, and below for the health legend.
pub const TOP_CSS: f64 = 34.0;
pub const BOTTOM_CSS: f64 = 26.0;
/// Rows closer than this leave no room for labels above and below an edge.
pub const ROOMY_PITCH_CSS: f64 = 64.0;

/// The graph's nodes, `(id, kind)`, in scenario order.
pub fn nodes_of(view: &RunView) -> Vec<(String, String)> {
    view.report.series.nodes.iter().map(|node| (node.id.clone(), node.kind.clone())).collect()
}

/// Every line of the graph, `(from, to)`: the call edges in report order, each load
/// balancer's links to its pool members, then each queue's links to its consumers.
pub fn links_of(view: &RunView) -> Vec<(String, String)> {
    let mut links: Vec<(String, String)> =
        view.report.series.edges.iter().map(|edge| (edge.from.clone(), edge.to.clone())).collect();
    for balancer in &view.topology.balancers {
        links.extend(balancer.pool.iter().map(|member| (balancer.id.clone(), member.clone())));
    }
    links.extend(view.topology.consumers.iter().cloned());
    links
}

/// Node indices by column, left to right: clients first, then each node one column right of
/// its deepest caller. Within a column, nodes are ordered by the mean position of their
/// callers (scenario order among equals), which keeps a pool next to its balancer and a
/// callee next to its caller.
fn columns(nodes: &[(String, String)], links: &[(String, String)]) -> Vec<Vec<usize>> {
    let count = nodes.len();
    let index_of = |id: &str| nodes.iter().position(|(node_id, _)| node_id == id);
    let pairs: Vec<(usize, usize)> =
        links.iter().filter_map(|(from, to)| Some((index_of(from)?, index_of(to)?))).collect();
    let mut depth: Vec<usize> = nodes.iter().map(|(_, kind)| if kind == "client" { 0 } else { 1 }).collect();
    // Longest path from a client; bounded by the node count so a cycle cannot loop forever.
    for _ in 0..count {
        let mut changed = false;
        for &(from, to) in &pairs {
            let wanted = (depth[from] + 1).min(count);
            if depth[to] < wanted {
                depth[to] = wanted;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Drop empty columns (a scenario with no clients starts at depth 1).
    let mut used: Vec<usize> = depth.clone();
    used.sort_unstable();
    used.dedup();
    let mut columns: Vec<Vec<usize>> =
        used.iter().map(|&d| (0..count).filter(|&node| depth[node] == d).collect()).collect();
    // Where each placed node sits in its column, as a share of the column's height.
    let mut place: Vec<Option<f64>> = vec![None; count];
    for column in &mut columns {
        let size = column.len() as f64;
        let keyed: Vec<(f64, usize)> = column
            .iter()
            .enumerate()
            .map(|(row, &node)| {
                let callers: Vec<f64> =
                    pairs.iter().filter(|&&(_, to)| to == node).filter_map(|&(from, _)| place[from]).collect();
                let own = (row as f64 + 0.5) / size;
                let key = if callers.is_empty() { own } else { callers.iter().sum::<f64>() / callers.len() as f64 };
                (key, node)
            })
            .collect();
        let mut sorted = keyed;
        // Stable: equal keys keep scenario order.
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        *column = sorted.iter().map(|&(_, node)| node).collect();
        for (row, &node) in column.iter().enumerate() {
            place[node] = Some((row as f64 + 0.5) / size);
        }
    }
    columns
}

/// The most nodes any column holds: the page sizes the graph's height by it.
pub fn rows_max(nodes: &[(String, String)], links: &[(String, String)]) -> usize {
    columns(nodes, links).iter().map(Vec::len).max().unwrap_or(0)
}

/// Places nodes in columns (see [`columns`]), each column's nodes spread evenly down the canvas.
pub fn layout(nodes: &[(String, String)], links: &[(String, String)], width_css: f64, height_css: f64) -> Layout {
    let count = nodes.len();
    if count == 0 {
        return Layout::default();
    }
    let columns = columns(nodes, links);
    let column_width = width_css / columns.len() as f64;
    let box_width = (column_width * 0.52).clamp(88.0, 200.0).min(column_width - 8.0).max(40.0);
    let usable_height = (height_css - TOP_CSS - BOTTOM_CSS).max(40.0);
    let mut boxes = Vec::with_capacity(count);
    for (column, members) in columns.iter().enumerate() {
        let row_pitch = usable_height / members.len().max(1) as f64;
        let box_height = (row_pitch * 0.8).clamp(24.0, 96.0).min(row_pitch - 4.0).max(16.0);
        for (row, &node) in members.iter().enumerate() {
            let (id, kind) = &nodes[node];
            // A balancer routes and holds no queue: a smaller shape keeps the eye on services.
            let (width, height) =
                if kind == "load_balancer" { (box_width * 0.8, box_height.min(64.0)) } else { (box_width, box_height) };
            let centre_x = column_width * (column as f64 + 0.5);
            let centre_y = TOP_CSS + row_pitch * (row as f64 + 0.5);
            boxes.push((
                node,
                NodeBox {
                    id: id.clone(),
                    kind: kind.clone(),
                    x: centre_x - width / 2.0,
                    y: centre_y - height / 2.0,
                    width,
                    height,
                    row_pitch,
                },
            ));
        }
    }
    boxes.sort_by_key(|(node, _)| *node);
    Layout { nodes: boxes.into_iter().map(|(_, node_box)| node_box).collect() }
}

/// Vertical positions of `count` ports on a side of a box: the middle alone, or spread over
/// the middle 60% of the side.
pub fn port_offsets(count: usize, height: f64) -> Vec<f64> {
    if count <= 1 {
        return vec![height / 2.0; count];
    }
    let span = height * 0.6;
    (0..count).map(|index| height * 0.2 + span * index as f64 / (count - 1) as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(id, kind)| (id.to_string(), kind.to_string())).collect()
    }

    fn links(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(from, to)| (from.to_string(), to.to_string())).collect()
    }

    fn overlap(a: &NodeBox, b: &NodeBox) -> bool {
        a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
    }

    #[test]
    fn edge_at_picks_the_nearest_line_within_reach() {
        let line = |path: &str, start, end| EdgeLine { path: path.to_string(), start, end };
        let lines = [
            line("nodes[0].calls[0]", (100.0, 100.0), (300.0, 100.0)),
            line("nodes[1].calls[0]", (100.0, 110.0), (300.0, 150.0)),
        ];
        // On a line, just beside one, nearer the second, past the hit distance, past an end.
        let cases: [((f64, f64), Option<&str>); 6] = [
            ((200.0, 100.0), Some("nodes[0].calls[0]")),
            ((200.0, 95.0), Some("nodes[0].calls[0]")),
            ((200.0, 128.0), Some("nodes[1].calls[0]")),
            ((200.0, 80.0), None),
            ((320.0, 100.0), None),
            ((f64::NAN, 100.0), None),
        ];
        for ((x, y), expected) in cases {
            assert_eq!(edge_at(&lines, x, y), expected, "at ({x}, {y})");
        }
        assert_eq!(edge_at(&[line("p", (5.0, 5.0), (5.0, 5.0))], 6.0, 5.0), Some("p"), "a point-long edge");
    }

    #[test]
    fn clients_left_services_right() {
        let layout =
            layout(&nodes(&[("clients", "client"), ("api", "service")]), &links(&[("clients", "api")]), 800.0, 260.0);
        let (client, service) = (&layout.nodes[0], &layout.nodes[1]);
        assert!(client.x + client.width < service.x, "{layout:?}");
        assert_eq!(layout.node_at(client.x + 1.0, client.y + 1.0), Some("clients"));
        assert_eq!(layout.node_at(service.x + 1.0, service.y + 1.0), Some("api"));
        assert_eq!(layout.node_at(1.0, 1.0), None);
    }

    #[test]
    fn deeper_services_get_their_own_column_and_cycles_end() {
        let layout = layout(
            &nodes(&[("c", "client"), ("a", "service"), ("b", "service")]),
            &links(&[("c", "a"), ("a", "b"), ("b", "a")]),
            900.0,
            300.0,
        );
        assert_eq!(layout.nodes.len(), 3);
        assert!(layout.nodes.iter().all(|node| node.width > 0.0 && node.height > 0.0));
    }

    #[test]
    fn boxes_stay_inside_a_narrow_canvas() {
        let layout =
            layout(&nodes(&[("clients", "client"), ("api", "service")]), &links(&[("clients", "api")]), 360.0, 220.0);
        for node in &layout.nodes {
            assert!(node.x >= 0.0 && node.x + node.width <= 360.0, "{node:?}");
            assert!(node.y >= 0.0 && node.y + node.height <= 220.0, "{node:?}");
        }
    }

    #[test]
    fn pools_and_layers_lay_out_without_overlaps() {
        let mut list = Vec::new();
        let mut wires = Vec::new();
        for group in ["rr", "lor", "p2c"] {
            list.push((format!("{group}-clients"), "client".to_string()));
            list.push((format!("{group}-lb"), "load_balancer".to_string()));
            wires.push((format!("{group}-clients"), format!("{group}-lb")));
            for member in 0..5 {
                list.push((format!("{group}-{member}"), "service".to_string()));
                wires.push((format!("{group}-lb"), format!("{group}-{member}")));
            }
        }
        assert_eq!(rows_max(&list, &wires), 15);
        let height = (15.0 * 50.0 + 70.0f64).min(760.0);
        let layout = layout(&list, &wires, 1000.0, height);
        for (index, a) in layout.nodes.iter().enumerate() {
            assert!(a.y >= TOP_CSS - 1.0 && a.y + a.height <= height - BOTTOM_CSS + 1.0, "{a:?}");
            for b in &layout.nodes[index + 1..] {
                assert!(!overlap(a, b), "{a:?} overlaps {b:?}");
            }
        }
        let find = |id: &str| layout.nodes.iter().find(|node| node.id == id).unwrap_or_else(|| panic!("{id}"));
        // The middle balancer's pool is the middle five of the column.
        let members: Vec<f64> = (0..5).map(|member| find(&format!("lor-{member}")).centre_y()).collect();
        assert!(members.iter().all(|&y| (y - find("lor-lb").centre_y()).abs() < height / 3.0), "{members:?}");
        assert!(members.windows(2).all(|pair| pair[0] < pair[1]), "pool order kept: {members:?}");

        let chain = nodes(&[
            ("clients", "client"),
            ("layer-1", "service"),
            ("layer-2", "service"),
            ("layer-3", "service"),
            ("layer-4", "service"),
            ("layer-5", "service"),
        ]);
        let calls = links(&[
            ("clients", "layer-1"),
            ("layer-1", "layer-2"),
            ("layer-2", "layer-3"),
            ("layer-3", "layer-4"),
            ("layer-4", "layer-5"),
        ]);
        let chain_layout = super::layout(&chain, &calls, 1000.0, 250.0);
        let xs: Vec<f64> = chain_layout.nodes.iter().map(|node| node.x).collect();
        assert!(xs.windows(2).all(|pair| pair[0] + 100.0 < pair[1]), "one column per layer: {xs:?}");
    }

    #[test]
    fn callees_sit_next_to_their_callers() {
        // b's caller is lower than a's: b is drawn lower, whatever the scenario order.
        let layout = layout(
            &nodes(&[("c1", "client"), ("c2", "client"), ("b", "service"), ("a", "service")]),
            &links(&[("c1", "a"), ("c2", "b")]),
            800.0,
            300.0,
        );
        let y = |id: &str| layout.nodes.iter().find(|node| node.id == id).map_or(f64::NAN, NodeBox::centre_y);
        assert!(y("a") < y("b"));
    }

    #[test]
    fn ports_spread_a_fan_out() {
        assert_eq!(port_offsets(1, 50.0), vec![25.0]);
        assert_eq!(port_offsets(3, 100.0), vec![20.0, 50.0, 80.0]);
        assert!(port_offsets(0, 10.0).is_empty());
    }
}
