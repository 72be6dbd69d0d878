// Small SVG charts drawn here (no chart library, nothing fetched). Each has a text alternative.

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

function frame(title, description, width, height) {
  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-labelledby": "",
    class: "chart",
    preserveAspectRatio: "xMidYMid meet",
  });
  const id = `chart-${Math.random().toString(36).slice(2, 9)}`;
  root.setAttribute("aria-labelledby", `${id}-t ${id}-d`);
  root.append(svg("title", { id: `${id}-t` }, title), svg("desc", { id: `${id}-d` }, description));
  return root;
}

/** Horizontal bars: rows [{label, value (Number), text}]. */
export function barChart(title, rows) {
  const width = 320;
  const rowHeight = 28;
  const height = rows.length * rowHeight + 8;
  const max = Math.max(...rows.map((r) => r.value), 0) || 1;
  const description = rows.map((r) => `${r.label}: ${r.text}`).join("; ");
  const root = frame(title, description, width, height);
  rows.forEach((row, i) => {
    const y = 4 + i * rowHeight;
    const barWidth = Math.max(row.value > 0 ? 2 : 0, (row.value / max) * 150);
    root.append(
      svg("text", { x: 0, y: y + 17, class: "chart-label" }, row.label),
      svg("rect", { x: 100, y: y + 4, width: barWidth, height: 18, class: "chart-bar", rx: 2 }),
      svg("text", { x: 106 + barWidth, y: y + 17, class: "chart-value" }, row.text),
    );
  });
  return root;
}

/** A step line of points [{x (unix s), y (Number)}] with first/last labels. */
export function lineChart(title, points, formatY, formatX) {
  const width = 320;
  const height = 160;
  const pad = { left: 8, right: 8, top: 16, bottom: 24 };
  const description = points.length
    ? `${points.length} points; from ${formatY(points[0].y)} (${formatX(points[0].x)}) to ${formatY(points.at(-1).y)} (${formatX(points.at(-1).x)})`
    : "no data";
  const root = frame(title, description, width, height);
  if (!points.length) return root;
  const xs = points.map((p) => p.x);
  const minX = Math.min(...xs);
  const spanX = Math.max(...xs) - minX || 1;
  const maxY = Math.max(...points.map((p) => p.y)) || 1;
  const px = (x) => pad.left + ((x - minX) / spanX) * (width - pad.left - pad.right);
  const py = (y) => height - pad.bottom - (y / maxY) * (height - pad.top - pad.bottom);
  let d = `M ${px(points[0].x)} ${py(points[0].y)}`;
  for (let i = 1; i < points.length; i += 1) d += ` H ${px(points[i].x)} V ${py(points[i].y)}`;
  root.append(
    svg("line", { x1: pad.left, x2: width - pad.right, y1: height - pad.bottom, y2: height - pad.bottom, class: "chart-axis" }),
    svg("path", { d, class: "chart-line", fill: "none" }),
    svg("text", { x: pad.left, y: height - 6, class: "chart-label" }, formatX(points[0].x)),
    svg("text", { x: width - pad.right, y: height - 6, class: "chart-label", "text-anchor": "end" }, formatX(points.at(-1).x)),
    svg("text", { x: width - pad.right, y: 12, class: "chart-value", "text-anchor": "end" }, formatY(points.at(-1).y)),
  );
  return root;
}
