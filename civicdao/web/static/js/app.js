// The residents' app: a hash router over five pages. Reads from /api, signs in the wallet,
// relays signatures through /relay, sends transactions from the wallet. Nothing else is contacted.

import { ApiError, get, post, query, waitForSubmission } from "./api.js";
import { barChart, lineChart } from "./chart.js";
import { clear, formatEth, h, newId, parseEth, shortAddress } from "./dom.js";
import { formatDate, language, pickLanguage, setLanguage, t } from "./i18n.js";
import * as wallet from "./wallet.js";

const main = () => document.getElementById("main");
let config = null;

// -- messages ---------------------------------------------------------------------------------------

function alertBox() {
  return document.getElementById("alert");
}

function hideAlert() {
  const box = alertBox();
  box.hidden = true;
  clear(box);
}

/** Relayer refusals a resident or registrar meets in normal use, each with its own sentence. */
const REFUSALS = {
  AlreadyCitizenError: "err.already_citizen",
  CredentialUsedError: "err.credential_used",
  NotRegistrarError: "err.not_registrar",
};

/** One clear message for every failure: wallet missing, rejected, wrong chain, refused by the server. */
function showError(error) {
  const box = clear(alertBox());
  box.hidden = false;
  box.dataset.kind = error?.kind || error?.name || "error";
  if (error instanceof wallet.WalletError) {
    if (error.kind === "wrong_chain") {
      const now = wallet.snapshot().chainId;
      box.append(
        h("p", {}, t("err.wrong_chain", { have: now, want: config.chainId })),
        h("button", { type: "button", onclick: () => switchChain() }, t("wallet.switch")),
      );
      return;
    }
    const key = { missing: "err.missing", rejected: "err.rejected", no_account: "err.no_account", unknown_chain: "err.unknown_chain" }[error.kind];
    box.append(h("p", {}, key ? t(key) : t("err.wallet_failed", { detail: error.message })));
    return;
  }
  if (error instanceof ApiError) {
    const known = REFUSALS[error.name];
    if (known) box.append(h("p", {}, t(known)), h("p", { class: "muted" }, error.message));
    else box.append(h("p", {}, t("err.api", { name: error.name, detail: error.message })));
    return;
  }
  box.append(h("p", {}, t("err.unexpected", { detail: error?.message || String(error) })));
}

async function guarded(action) {
  hideAlert();
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  }
}

async function switchChain() {
  await guarded(async () => {
    await wallet.switchChain();
    hideAlert();
  });
}

function say(region, text) {
  region.textContent = text;
}

// -- wallet bar --------------------------------------------------------------------------------------

function renderWalletStatus(snap = wallet.snapshot()) {
  const status = clear(document.getElementById("wallet-status"));
  const button = document.getElementById("connect");
  if (!snap.account) {
    button.textContent = t("wallet.connect");
    if (!snap.available) status.append(t("wallet.none"));
    return;
  }
  button.textContent = shortAddress(snap.account);
  status.append(t("wallet.connected", { who: snap.account, wallet: snap.name || "wallet" }));
  if (snap.wrongChain) {
    status.append(" ", h("strong", {}, t("err.wrong_chain", { have: snap.chainId, want: snap.expectedChainId })), " ");
    status.append(h("button", { type: "button", onclick: () => switchChain() }, t("wallet.switch")));
  }
}

/** Connect: with several EIP-6963 wallets announced, let the resident pick one first. */
async function chooseAndConnect() {
  const providers = wallet.snapshot().providers;
  if (providers.length <= 1) {
    await wallet.connect();
    return;
  }
  const status = clear(document.getElementById("wallet-status"));
  const picked = new Promise((resolve) => {
    status.append(h("p", { id: "wallet-choice" }, t("wallet.choose")),
      h("ul", { class: "wallets", "aria-labelledby": "wallet-choice" }, providers.map((info) =>
        h("li", {}, h("button", { type: "button", onclick: () => resolve(info.uuid) },
          info.icon ? h("img", { src: info.icon, alt: "", width: 20, height: 20 }) : null, " ", info.name)))));
    status.querySelector("button")?.focus();
  });
  await wallet.connect(await picked);
}

async function ensureAccount() {
  if (!wallet.account()) await chooseAndConnect();
  return wallet.account();
}

// -- router ------------------------------------------------------------------------------------------

const routes = [
  [/^#\/proposals\/([0-9]+)$/, (m) => renderProposal(m[1])],
  [/^#\/membership$/, () => renderMembership()],
  [/^#\/budget$/, () => renderBudget()],
  [/^#\/exchange$/, () => renderExchange()],
  [/^#\/treasury$/, () => renderTreasury()],
  [/^(#\/proposals)?$|^#\/?$/, () => renderProposals()],
];

async function route() {
  hideAlert();
  const hash = location.hash;
  for (const link of document.querySelectorAll("nav a")) {
    const current = hash.startsWith(link.getAttribute("href")) || (hash === "" && link.getAttribute("href") === "#/proposals");
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const root = clear(main());
  root.setAttribute("aria-busy", "true");
  root.append(h("p", {}, t("loading")));
  for (const [pattern, render] of routes) {
    const match = pattern.exec(hash);
    if (match) {
      try {
        const content = await render(match);
        clear(root).append(...content);
      } catch (error) {
        clear(root).append(h("h1", {}, t("err.page")));
        showError(error);
      }
      root.removeAttribute("aria-busy");
      const heading = root.querySelector("h1");
      document.title = `${heading ? heading.textContent + " · " : ""}${t("app.name")}`;
      return;
    }
  }
  clear(root).append(h("h1", {}, t("err.not_found")), h("p", {}, h("a", { href: "#/proposals" }, t("nav.proposals"))));
  root.removeAttribute("aria-busy");
}

function rerender() {
  route();
}

// -- proposals ---------------------------------------------------------------------------------------

function stateBadge(state) {
  return h("span", { class: `badge state-${state}` }, t(`state.${state}`));
}

async function renderProposals() {
  const proposals = await get("/api/proposals");
  const list = h("ul", { class: "cards" });
  for (const p of proposals) {
    list.append(
      h("li", { class: "card" },
        h("h2", {}, h("a", { href: `#/proposals/${p.id}` }, p.title)),
        h("p", {}, stateBadge(p.state), " ", t("tally.short", p.tally)),
        h("p", { class: "muted" }, t("proposal.voting_until", { when: formatDate(p.voteEnd) })),
      ),
    );
  }
  return [h("h1", {}, t("nav.proposals")), proposals.length ? list : h("p", {}, t("proposal.none"))];
}

function describeAction(action) {
  if (!action.function) return t("action.raw", { target: action.target, value: formatEth(action.value), bytes: (action.calldata.length - 2) / 2 });
  const args = Object.entries(action.args).map(([k, v]) => `${k} = ${Array.isArray(v) ? v.join(", ") : v}`).join("; ");
  return `${t(`contract.${action.contract}`)} · ${action.function}(${args})${action.value !== "0" ? " + " + formatEth(action.value) : ""}`;
}

function tallyBars(tally) {
  const total = tally.for + tally.against + tally.abstain || 1;
  const rows = ["for", "against", "abstain"].map((side) =>
    h("div", { class: "tally-row" },
      h("span", { class: "tally-label", id: `tally-${side}` }, `${t(`vote.${side}`)}: ${tally[side]}`),
      h("progress", { max: total, value: tally[side], "aria-labelledby": `tally-${side}` }),
    ),
  );
  return h("div", { class: "tally", "data-testid": "tally" }, rows);
}

async function renderProposal(id) {
  const account = wallet.account();
  const p = await get(`/api/proposals/${id}?${query({ account })}`);
  const out = [
    h("p", {}, h("a", { href: "#/proposals" }, "← ", t("nav.proposals"))),
    h("h1", {}, p.title),
    h("p", {}, stateBadge(p.state), " ", t("proposal.by", { who: p.proposer })),
  ];
  for (const para of (p.body || "").split(/\n\s*\n/).filter(Boolean)) out.push(h("p", { class: "prose" }, para));
  out.push(h("h2", {}, t("proposal.actions")));
  out.push(p.actions.length ? h("ol", { class: "actions" }, p.actions.map((a) => h("li", {}, h("code", {}, describeAction(a))))) : h("p", {}, t("proposal.no_actions")));
  out.push(h("h2", {}, t("proposal.tally")), tallyBars(p.tally));
  if (p.quorum !== null) out.push(h("p", {}, t("proposal.quorum", { n: p.quorum })));
  out.push(h("h2", {}, t("proposal.timeline")));
  out.push(h("ol", { class: "timeline" }, p.timeline.map((step) =>
    h("li", { class: step.done ? "done" : "" }, h("strong", {}, t(`timeline.${step.step}`)), " ", step.time ? formatDate(step.time) : ""),
  )));
  out.push(h("h2", { id: "vote-heading" }, t("vote.heading")));
  out.push(voteSection(p));
  return out;
}

function voteSection(p) {
  const you = p.you;
  if (!p.open) return h("p", {}, t("vote.closed"));
  if (!you) {
    return h("p", {}, t("vote.connect_first"), " ",
      h("button", { type: "button", onclick: () => guarded(async () => { await ensureAccount(); rerender(); }) }, t("wallet.connect")));
  }
  if (you.hasVoted || you.hasOverridden) return h("p", { class: "ok", "data-testid": "voted" }, t("vote.done"));
  if (!you.isCitizen && you.votesAtSnapshot === 0) return h("p", {}, t("vote.not_citizen"));
  const status = h("p", { role: "status", "aria-live": "polite", class: "progress-msg" });
  const reasonId = newId("reason");
  const form = h("form", { "aria-labelledby": "vote-heading" },
    h("fieldset", {},
      h("legend", {}, t("vote.choose")),
      ["for", "against", "abstain"].map((side, index) => {
        const inputId = newId("support");
        const support = { for: 1, against: 0, abstain: 2 }[side];
        return h("div", { class: "choice" },
          h("input", { type: "radio", name: "support", id: inputId, value: support, required: true, checked: index === 0 }),
          h("label", { for: inputId }, t(`vote.${side}`)));
      }),
    ),
    h("label", { for: reasonId }, t("vote.reason")),
    h("textarea", { id: reasonId, name: "reason", rows: 3, maxlength: 1000 }),
    you.mustOverride ? h("p", { class: "note" }, t("vote.override_note")) : null,
    h("button", { type: "submit" }, you.mustOverride ? t("vote.submit_override") : t("vote.submit")),
    status,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(async () => {
      const voter = await ensureAccount();
      const data = new FormData(form);
      const typed = await get(`/relay/typed-data/ballot?${query({
        proposal_id: p.id, voter, support: data.get("support"), reason: data.get("reason"), override: you.mustOverride ? "true" : "",
      })}`);
      say(status, t("vote.signing"));
      let signature;
      try {
        signature = await wallet.signTypedData(typed);
      } catch (error) {
        say(status, "");
        throw error;
      }
      const submission = await post("/relay/ballots", { typed_data: typed, signature });
      say(status, t("vote.queued"));
      const final = await waitForSubmission(submission.id);
      if (final.status === "confirmed") {
        say(status, t("vote.counted"));
        setTimeout(rerender, 300);
      } else if (final.status === "dropped") {
        say(status, t("vote.dropped", { reason: final.reason || "" }));
      } else {
        say(status, t("vote.pending"));
      }
    });
  });
  return form;
}

// -- membership --------------------------------------------------------------------------------------

async function renderMembership() {
  const heading = h("h1", {}, t("nav.membership"));
  const account = wallet.account();
  if (!account) {
    return [heading, h("p", {}, t("membership.connect")),
      h("button", { type: "button", onclick: () => guarded(async () => { await ensureAccount(); rerender(); }) }, t("wallet.connect"))];
  }
  const m = await get(`/api/membership/${account}`);
  const delegateText = !m.delegate ? t("membership.nobody")
    : m.delegate.toLowerCase() === account.toLowerCase() ? t("membership.yourself") : m.delegate;
  const facts = h("dl", { class: "facts" },
    h("dt", {}, t("membership.status")), h("dd", { "data-testid": "citizen" }, m.isCitizen ? t("membership.citizen", { id: m.membershipId }) : t("membership.not_citizen")),
    h("dt", {}, t("membership.votes")), h("dd", {}, String(m.votes)),
    h("dt", {}, t("membership.delegate")), h("dd", { "data-testid": "delegate" }, delegateText),
    h("dt", {}, t("membership.delegators")), h("dd", {}, m.delegators.length ? h("ul", {}, m.delegators.map((d) => h("li", {}, d))) : t("membership.no_delegators")),
    h("dt", {}, t("membership.citizens")), h("dd", {}, String(m.citizenCount)),
  );
  const out = [heading, facts];
  if (m.isCitizen) out.push(delegationForm(account, m));
  if (m.isRegistrar) out.push(registrarDesk());
  return out;
}

/** Shown to a holder of REGISTRAR_ROLE: attest a resident by address and salted credential hash only. */
const ATTESTATION_VALIDITY = [["hour", 3600], ["day", 86400], ["week", 7 * 86400]];

function registrarDesk() {
  const ids = { citizen: newId("attest-citizen"), hash: newId("attest-hash"), expiry: newId("attest-expiry"), hashHelp: newId("attest-hash-help") };
  const status = h("p", { role: "status", "aria-live": "polite", class: "progress-msg", "data-testid": "attest-status" });
  const citizen = h("input", { id: ids.citizen, name: "citizen", type: "text", autocomplete: "off", spellcheck: "false", pattern: "0x[0-9a-fA-F]{40}", required: true, size: 44 });
  const hash = h("input", { id: ids.hash, name: "credential_hash", type: "text", autocomplete: "off", spellcheck: "false", pattern: "0x[0-9a-fA-F]{64}", required: true, size: 68, "aria-describedby": ids.hashHelp });
  const expiry = h("select", { id: ids.expiry, name: "expiry" }, ATTESTATION_VALIDITY.map(([key, seconds]) =>
    h("option", { value: seconds, selected: key === "day" }, t(`attest.valid_${key}`))));
  const send = () => guarded(async () => {
    const registrar = await ensureAccount();
    const who = citizen.value.trim();
    const { now } = await get(`/api/membership/${registrar}`); // the chain's clock, not the computer's
    const typed = await get(`/relay/typed-data/attestation?${query({ citizen: who, credential_hash: hash.value.trim(), expiry: now + Number(expiry.value) })}`);
    say(status, t("vote.signing"));
    const signature = await wallet.signTypedData(typed).catch((error) => { say(status, ""); throw error; });
    const submission = await post("/relay/attestations", { typed_data: typed, signature }).catch((error) => { say(status, ""); throw error; });
    say(status, t("attest.queued"));
    const final = await waitForSubmission(submission.id);
    if (final.status === "confirmed") {
      say(status, t("attest.done", { who }));
      status.dataset.done = "true";
      citizen.value = "";
      hash.value = "";
    } else say(status, final.status === "dropped" ? t("vote.dropped", { reason: final.reason || "" }) : t("vote.pending"));
  });
  const form = h("form", { "aria-labelledby": "registrar-heading" },
    h("label", { for: ids.citizen }, t("attest.citizen")), citizen,
    h("label", { for: ids.hash }, t("attest.hash")), hash,
    h("p", { id: ids.hashHelp, class: "muted" }, t("attest.hash_help")),
    h("label", { for: ids.expiry }, t("attest.expiry")), expiry,
    h("p", {}, h("button", { type: "submit" }, t("attest.submit"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    delete status.dataset.done;
    send();
  });
  return h("section", { class: "registrar-desk", "data-testid": "registrar-desk" },
    h("h2", { id: "registrar-heading" }, t("attest.heading")),
    h("p", {}, t("attest.explain")), h("p", {}, t("attest.private")), form, status);
}

function delegationForm(account, m) {
  const inputId = newId("delegatee");
  const status = h("p", { role: "status", "aria-live": "polite", class: "progress-msg" });
  const input = h("input", { id: inputId, name: "delegatee", type: "text", inputmode: "text", autocomplete: "off", spellcheck: "false", pattern: "0x[0-9a-fA-F]{40}", required: true, size: 44 });
  const send = (delegatee) => guarded(async () => {
    const delegator = await ensureAccount();
    const typed = await get(`/relay/typed-data/delegation?${query({ delegator, delegatee, expiry: m.now + 3600 })}`);
    say(status, t("vote.signing"));
    const signature = await wallet.signTypedData(typed).catch((error) => { say(status, ""); throw error; });
    const submission = await post("/relay/delegations", { typed_data: typed, signature });
    say(status, t("delegation.queued"));
    const final = await waitForSubmission(submission.id);
    if (final.status === "confirmed") {
      say(status, t("delegation.done"));
      setTimeout(rerender, 300);
    } else say(status, final.status === "dropped" ? t("vote.dropped", { reason: final.reason || "" }) : t("vote.pending"));
  });
  const form = h("form", { "aria-labelledby": "delegate-heading" },
    h("label", { for: inputId }, t("delegation.to")), input,
    h("button", { type: "submit" }, t("delegation.submit")));
  form.addEventListener("submit", (event) => { event.preventDefault(); send(input.value.trim()); });
  const takeBack = h("button", { type: "button", onclick: () => send(account) }, t("delegation.take_back"));
  return h("section", {}, h("h2", { id: "delegate-heading" }, t("delegation.heading")), h("p", {}, t("delegation.explain")), form, h("p", {}, takeBack), status);
}

// -- participatory budget ----------------------------------------------------------------------------

async function renderBudget() {
  const heading = h("h1", {}, t("nav.budget"));
  const budget = await get("/api/budget");
  if (!budget.available) return [heading, h("p", { class: "note", "data-testid": "budget-unavailable" }, t("budget.unavailable"))];
  if (!budget.rounds.length) return [heading, h("p", {}, t("budget.no_rounds"))];
  return [heading, ...budget.rounds.map((round) => budgetRound(round))];
}

function budgetRound(round) {
  const total = BigInt(round.budget);
  const section = h("section", { class: "round" }, h("h2", {}, t("budget.round", { id: round.roundId })), h("p", {}, t("budget.total", { amount: formatEth(total) })));
  if (round.results) {
    const byIndex = new Map(round.projects.map((p) => [p.index, p]));
    section.append(h("h3", {}, t("budget.results", { rule: round.results.rule })),
      h("ul", {}, round.results.selected.map((index) => h("li", {}, byIndex.get(index)?.title || `#${index}`, " — ", formatEth(byIndex.get(index)?.cost || "0")))));
    if (round.results.payments?.length) {
      section.append(h("h3", {}, t("budget.payments")), h("ul", {}, round.results.payments.map((pay) => h("li", {}, t("budget.paid", { project: byIndex.get(pay.index)?.title || `#${pay.index}`, voters: pay.voters ?? "?", amount: formatEth(pay.paid) })))));
    }
  }
  if (round.phase !== "voting") return section;
  const barLabel = newId("budget-bar");
  const bar = h("progress", { max: 1000, value: 0, "aria-labelledby": barLabel });
  const barText = h("p", { id: barLabel, "aria-live": "polite" });
  const status = h("p", { role: "status", "aria-live": "polite" });
  const boxes = round.projects.map((project) => {
    const id = newId("project");
    const box = h("input", { type: "checkbox", id, value: project.index });
    return [box, h("div", { class: "choice" }, box, h("label", { for: id }, `${project.title} — ${formatEth(project.cost)}`))];
  });
  const update = () => {
    const chosen = boxes.filter(([box]) => box.checked).map(([box]) => round.projects.find((p) => String(p.index) === box.value));
    const spent = chosen.reduce((sum, p) => sum + BigInt(p.cost), 0n);
    bar.value = total > 0n ? Number((spent * 1000n) / total > 1000n ? 1000n : (spent * 1000n) / total) : 0;
    barText.textContent = t("budget.bar", { chosen: formatEth(spent), total: formatEth(total), n: chosen.length })
      + (spent > total ? " " + t("budget.over", { over: formatEth(spent - total) }) : "");
    bar.classList.toggle("over", spent > total);
  };
  for (const [box] of boxes) box.addEventListener("change", update);
  const mine = h("p", { class: "note", "data-testid": "budget-mine" });
  const form = h("form", {}, mine, h("fieldset", {}, h("legend", {}, t("budget.approve", { min: round.minApprovals, max: round.maxApprovals })), boxes.map(([, row]) => row)), barText, bar, h("button", { type: "submit" }, t("budget.submit")), status);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(async () => {
      const voter = await ensureAccount();
      const approvals = boxes.filter(([box]) => box.checked).map(([box]) => box.value);
      if (approvals.length < round.minApprovals || approvals.length > round.maxApprovals) {
        say(status, t("budget.count", { min: round.minApprovals, max: round.maxApprovals }));
        return;
      }
      const typed = await get(`/relay/typed-data/budget-ballot?${query({ round_id: round.roundId, voter, approvals: approvals.join(",") })}`);
      const signature = await wallet.signTypedData(typed);
      const submission = await post("/relay/budget-ballots", { typed_data: typed, signature, voter });
      const final = await waitForSubmission(submission.id);
      say(status, final.status === "confirmed" ? t("budget.done") : t("vote.pending"));
      await tickMyBallot(round, boxes, mine);
    });
  });
  update();
  tickMyBallot(round, boxes, mine).then(update).catch(() => {}); // a connected resident sees the ballot they cast
  section.append(form);
  return section;
}

// The connected account's ballot on chain: its boxes ticked, and a line saying it can be changed.
async function tickMyBallot(round, boxes, mine) {
  const account = wallet.account();
  if (!account) return;
  const ballot = await get(`/api/budget/${round.roundId}/ballot/${account}`);
  if (!ballot.member || ballot.ballots === 0) return;
  const approved = new Set(ballot.approvals.map(String));
  for (const [box] of boxes) box.checked = approved.has(box.value);
  mine.textContent = t("budget.mine", { n: ballot.approvals.length });
}

// -- exchange ----------------------------------------------------------------------------------------

async function renderExchange() {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const kindId = newId("kind");
  const dateId = newId("date");
  const kindSelect = h("select", { id: kindId, name: "kind" }, h("option", { value: "" }, t("exchange.any_kind")),
    config.kinds.map((k) => h("option", { value: k }, t(`kind.${k}`))));
  const dateInput = h("input", { id: dateId, name: "on", type: "date" });
  const results = h("div", { "aria-live": "polite" });
  const search = async () => {
    const on = dateInput.value ? Math.floor(Date.parse(dateInput.value + "T12:00:00Z") / 1000) : "";
    const listings = await get(`/api/listings?${query({ kind: kindSelect.value, on })}`);
    clear(results).append(listings.length ? h("ul", { class: "cards" }, listings.map((l) => listingCard(l))) : h("p", {}, t("exchange.none")));
  };
  const form = h("form", { class: "filters", role: "search" },
    h("label", { for: kindId }, t("exchange.kind")), kindSelect,
    h("label", { for: dateId }, t("exchange.date")), dateInput,
    h("button", { type: "submit" }, t("exchange.search")));
  form.addEventListener("submit", (event) => { event.preventDefault(); guarded(search); });
  if (params.get("kind")) kindSelect.value = params.get("kind");
  await search();
  const out = [h("h1", {}, t("nav.exchange")), form, h("h2", {}, t("exchange.listings")), results];
  const account = wallet.account();
  if (account) out.push(await myBookings(account));
  else out.push(h("p", {}, t("exchange.connect_for_bookings")));
  return out;
}

function listingCard(listing) {
  const panel = h("div", { class: "listing-panel", hidden: true });
  const panelId = newId("panel");
  panel.id = panelId;
  const toggle = h("button", { type: "button", "aria-expanded": "false", "aria-controls": panelId }, t("exchange.calendar_and_book"));
  toggle.addEventListener("click", () => guarded(async () => {
    const open = toggle.getAttribute("aria-expanded") === "true";
    toggle.setAttribute("aria-expanded", String(!open));
    panel.hidden = open;
    if (!open) await fillPanel(panel, listing);
  }));
  return h("li", { class: "card", "data-listing": listing.listingId },
    h("h3", {}, `${t(`kind.${listing.kind}`)} · #${listing.listingId}`),
    h("p", {}, t("exchange.price", { price: formatEth(listing.price), unit: t(`unit.${listing.unit}`), deposit: formatEth(listing.deposit) })),
    h("p", { class: "muted" }, listing.metadataUri),
    h("p", { class: "muted" }, t("exchange.window", { from: formatDate(listing.availableFrom, false), until: formatDate(listing.availableUntil, false) })),
    toggle, panel);
}

async function fillPanel(panel, listing) {
  const calendar = await get(`/api/listings/${listing.listingId}/calendar`);
  const shown = calendar.slots.slice(0, 31);
  const withTime = calendar.unit === "hour";
  const grid = h("ul", { class: "calendar", "aria-label": t("exchange.calendar") },
    shown.map((slot) => h("li", { class: slot.free ? "free" : "taken", "data-start": slot.start },
      h("span", {}, formatDate(slot.start, withTime)), " ", h("span", { class: "slot-state" }, slot.free ? t("exchange.free") : t("exchange.taken")))));
  const startId = newId("start");
  const unitsId = newId("units");
  const status = h("p", { role: "status", "aria-live": "polite" });
  const startSelect = h("select", { id: startId, name: "start" }, shown.filter((s) => s.free).map((s) => h("option", { value: s.start }, formatDate(s.start, withTime))));
  const units = h("input", { id: unitsId, name: "units", type: "number", min: listing.minUnits, max: listing.maxUnits, value: listing.minUnits, required: true });
  const form = h("form", { class: "book" },
    h("label", { for: startId }, t("exchange.start")), startSelect,
    h("label", { for: unitsId }, t("exchange.units", { unit: t(`unit.${listing.unit}`) })), units,
    h("button", { type: "submit" }, t("exchange.book")), status);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(async () => {
      await ensureAccount();
      const tx = await post("/api/tx/book", { listingId: listing.listingId, start: Number(startSelect.value), units: Number(units.value) });
      say(status, t("tx.confirm_in_wallet", { value: formatEth(BigInt(tx.value)) }));
      await wallet.sendTransaction(tx).catch((error) => { say(status, ""); throw error; });
      say(status, t("exchange.booked"));
      await fillPanel(panel, listing);
      panel.querySelector("[role=status]").textContent = t("exchange.booked");
    });
  });
  clear(panel).append(h("h4", {}, t("exchange.calendar")), grid, form);
}

async function myBookings(account) {
  const [bookings, credits] = await Promise.all([get(`/api/bookings/${account}`), get(`/api/credits/${account}`)]);
  const status = h("p", { role: "status", "aria-live": "polite" });
  const act = (path, body) => guarded(async () => {
    const tx = await post(path, body);
    await wallet.sendTransaction(tx);
    say(status, t("tx.done"));
    setTimeout(rerender, 300);
  });
  const rows = bookings.map((b) => h("tr", {},
    h("td", {}, `#${b.bookingId}`), h("td", {}, `#${b.listingId}`), h("td", {}, formatDate(b.start)), h("td", {}, t(`booking.${b.status}`)),
    h("td", {}, b.canCancel ? h("button", { type: "button", onclick: () => act("/api/tx/cancel", { bookingId: b.bookingId }) }, t("booking.cancel")) : null,
      b.canSettle ? h("button", { type: "button", onclick: () => act("/api/tx/settle", { bookingId: b.bookingId }) }, t("booking.settle")) : null,
      b.canWithdrawDeposit ? h("button", { type: "button", onclick: () => act("/api/tx/withdraw-deposit", { bookingId: b.bookingId }) }, t("booking.withdraw_deposit")) : null)));
  const table = h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": t("exchange.my_bookings") },
    h("table", {}, h("thead", {}, h("tr", {}, ["booking", "listing", "start", "status", "actions"].map((c) => h("th", { scope: "col" }, t(`booking.col.${c}`))))), h("tbody", {}, rows)));
  const owed = BigInt(credits.eth);
  return h("section", {}, h("h2", {}, t("exchange.my_bookings")), bookings.length ? table : h("p", {}, t("exchange.no_bookings")),
    h("p", {}, t("exchange.owed", { amount: formatEth(owed) }), " ",
      owed > 0n ? h("button", { type: "button", onclick: () => act("/api/tx/withdraw", {}) }, t("exchange.withdraw")) : null), status);
}

// -- treasury ----------------------------------------------------------------------------------------

const toEth = (wei) => Number(BigInt(wei) / 10n ** 12n) / 1e6;

async function renderTreasury() {
  const tr = await get("/api/treasury");
  const facts = h("dl", { class: "facts" },
    ...[["balance", tr.balance], ["committed", tr.committed], ["free", tr.free], ["total_in", tr.totalIn], ["total_out", tr.totalOut]]
      .flatMap(([key, value]) => [h("dt", {}, t(`treasury.${key}`)), h("dd", {}, formatEth(value))]));
  const inflows = barChart(t("treasury.inflows_chart"), tr.inflowsByCategory.map((row) => ({ label: t(`category.${row.category}`), value: toEth(row.amount), text: formatEth(row.amount) })));
  const history = lineChart(t("treasury.balance_chart"), tr.balanceHistory.map((p) => ({ x: p.time, y: toEth(p.balance) })), (y) => `${y} ETH`, (x) => formatDate(x, false));
  const grants = tr.grants.length
    ? h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": t("treasury.grants") }, h("table", {},
      h("thead", {}, h("tr", {}, ["grant", "kind", "recipient", "amount", "vested", "claimed", "actions"].map((c) => h("th", { scope: "col" }, t(`grant.col.${c}`))))),
      h("tbody", {}, tr.grants.map((g) => h("tr", {}, h("td", {}, `#${g.grantId}`), h("td", {}, t(`grant.${g.kind}`)), h("td", {}, shortAddress(g.recipient)),
        h("td", {}, formatEth(g.amount)), h("td", {}, formatEth(g.vested)), h("td", {}, formatEth(g.claimed)),
        h("td", {}, claimButton(g)))))))
    : h("p", {}, t("treasury.no_grants"));
  return [h("h1", {}, t("nav.treasury")), facts,
    h("h2", {}, t("treasury.inflows")), h("figure", { class: "chart-box", "data-testid": "inflows-chart" }, inflows, h("figcaption", {}, t("treasury.inflows_caption"))),
    h("h2", {}, t("treasury.history")), h("figure", { class: "chart-box", "data-testid": "balance-chart" }, history, h("figcaption", {}, t("treasury.history_caption"))),
    h("h2", {}, t("treasury.grants")), grants, donateForm()];
}

/** A grant's recipient pulls what has vested (a wallet transaction). */
function claimButton(grant) {
  const mine = wallet.account() && wallet.account().toLowerCase() === grant.recipient.toLowerCase();
  if (!mine || BigInt(grant.claimable) === 0n) return null;
  return h("button", { type: "button", onclick: () => guarded(async () => {
    const tx = await post("/api/tx/claim-grant", { grantId: grant.grantId });
    await wallet.sendTransaction(tx);
    setTimeout(rerender, 300);
  }) }, t("grant.claim", { amount: formatEth(grant.claimable) }));
}

function donateForm() {
  const amountId = newId("amount");
  const noteId = newId("note");
  const status = h("p", { role: "status", "aria-live": "polite" });
  const amount = h("input", { id: amountId, name: "amount", type: "text", inputmode: "decimal", required: true, placeholder: "0.1" });
  const note = h("input", { id: noteId, name: "note", type: "text", maxlength: 32 });
  const form = h("form", {}, h("label", { for: amountId }, t("donate.amount")), amount, h("label", { for: noteId }, t("donate.note")), note,
    h("button", { type: "submit" }, t("donate.submit")), status);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(async () => {
      let wei;
      try {
        wei = parseEth(amount.value);
      } catch {
        say(status, t("donate.bad_amount"));
        return;
      }
      await ensureAccount();
      const tx = await post("/api/tx/donate", { amountWei: wei.toString(), note: note.value });
      await wallet.sendTransaction(tx);
      say(status, t("donate.thanks"));
      setTimeout(rerender, 300);
    });
  });
  return h("section", {}, h("h2", {}, t("donate.heading")), h("p", {}, t("donate.explain")), form);
}

// -- start -------------------------------------------------------------------------------------------

async function start() {
  await setLanguage(pickLanguage());
  const select = document.getElementById("lang");
  select.value = language();
  select.addEventListener("change", async () => {
    await setLanguage(select.value, { remember: true });
    renderWalletStatus();
    rerender();
  });
  try {
    config = await get("/api/config");
  } catch (error) {
    clear(main()).append(h("h1", {}, t("err.page")));
    showError(error);
    return;
  }
  wallet.discover(config.chainId);
  wallet.onChange((snap) => { renderWalletStatus(snap); });
  document.getElementById("connect").addEventListener("click", () => guarded(async () => { await chooseAndConnect(); rerender(); }));
  window.addEventListener("hashchange", () => { route().then(() => main().focus()); });
  renderWalletStatus();
  await wallet.restore();
  await route();
  document.body.dataset.ready = "true";
}

start();
