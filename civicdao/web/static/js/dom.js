// Tiny DOM helpers: build elements without innerHTML (no injection from chain data).

/** h("p", {class: "x", onclick: fn}, "text", child…) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let uid = 0;
export function newId(prefix = "id") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** An ETH amount (wei as a decimal string or BigInt) with at most 4 decimals. */
export function formatEth(wei) {
  const value = BigInt(wei);
  const whole = value / 10n ** 18n;
  const frac = (value % 10n ** 18n).toString().padStart(18, "0").slice(0, 4).replace(/0+$/, "");
  return `${whole}${frac ? "." + frac : ""} ETH`;
}

/** Parse "1.5" ETH into wei (BigInt); throws on anything else. */
export function parseEth(text) {
  const match = /^\s*(\d+)(?:\.(\d{1,18}))?\s*$/.exec(text);
  if (!match) throw new Error("bad amount");
  return BigInt(match[1]) * 10n ** 18n + BigInt((match[2] || "").padEnd(18, "0"));
}

export function shortAddress(address) {
  return address ? `${address.slice(0, 6)}…${address.slice(-4)}` : "";
}
