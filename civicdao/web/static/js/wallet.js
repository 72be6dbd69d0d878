// Wallets: EIP-6963 discovery with a window.ethereum fallback, chain checks, signing, transactions.

export class WalletError extends Error {
  /** kind: "missing" | "rejected" | "wrong_chain" | "no_account" | "failed" */
  constructor(kind, message, cause) {
    super(message || kind);
    this.kind = kind;
    this.cause = cause;
  }
}

const state = {
  providers: [], // [{info: {uuid, name, icon, rdns}, provider}]
  provider: null,
  info: null,
  account: null,
  chainId: null,
  expectedChainId: null,
  listeners: new Set(),
};

export function onChange(listener) {
  state.listeners.add(listener);
}

function changed() {
  for (const listener of state.listeners) listener(snapshot());
}

export function snapshot() {
  return {
    account: state.account,
    chainId: state.chainId,
    expectedChainId: state.expectedChainId,
    name: state.info?.name || null,
    providers: state.providers.map((p) => p.info),
    available: state.providers.length > 0 || Boolean(window.ethereum),
    wrongChain: state.account !== null && state.chainId !== null && state.chainId !== state.expectedChainId,
  };
}

/** Start listening for EIP-6963 announcements and ask wallets to announce themselves. */
export function discover(expectedChainId) {
  state.expectedChainId = expectedChainId;
  window.addEventListener("eip6963:announceProvider", (event) => {
    const { info, provider } = event.detail || {};
    if (!info || !provider || state.providers.some((p) => p.info.uuid === info.uuid)) return;
    state.providers.push({ info, provider });
    changed();
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));
}

function pickProvider(uuid) {
  const announced = state.providers.find((p) => p.info.uuid === uuid) || state.providers[0];
  if (announced) return announced;
  if (window.ethereum) return { info: { name: "Browser wallet", uuid: "window.ethereum" }, provider: window.ethereum };
  throw new WalletError("missing");
}

function classify(error) {
  if (error instanceof WalletError) return error;
  const code = error?.code ?? error?.data?.originalError?.code;
  if (code === 4001) return new WalletError("rejected", error?.message, error);
  if (code === 4902) return new WalletError("unknown_chain", error?.message, error);
  return new WalletError("failed", error?.message || String(error), error);
}

async function call(method, params) {
  if (!state.provider) throw new WalletError("no_account");
  try {
    return await state.provider.request(params === undefined ? { method } : { method, params });
  } catch (error) {
    throw classify(error);
  }
}

/** Reconnect silently to a wallet that already shared an account with this site (eth_accounts, no prompt). */
export async function restore() {
  let chosen;
  try {
    chosen = pickProvider();
  } catch {
    return null;
  }
  try {
    const accounts = await chosen.provider.request({ method: "eth_accounts" });
    if (!accounts || !accounts[0]) return null;
    await connect(chosen.info.uuid);
    return state.account;
  } catch {
    return null;
  }
}

/** Ask the wallet for an account (the wallet shows its own prompt). */
export async function connect(uuid) {
  const chosen = pickProvider(uuid);
  const fresh = state.provider !== chosen.provider;
  state.provider = chosen.provider;
  state.info = chosen.info;
  const accounts = await call("eth_requestAccounts");
  state.account = accounts && accounts[0] ? accounts[0] : null;
  state.chainId = Number.parseInt(await call("eth_chainId"), 16);
  if (fresh && typeof state.provider.on === "function") {
    state.provider.on("accountsChanged", (list) => {
      state.account = list && list[0] ? list[0] : null;
      changed();
    });
    state.provider.on("chainChanged", (id) => {
      state.chainId = Number.parseInt(id, 16);
      changed();
    });
  }
  changed();
  if (!state.account) throw new WalletError("no_account");
  return state.account;
}

export function account() {
  return state.account;
}

/** Ask the wallet to move to the city's chain. */
export async function switchChain() {
  const hex = "0x" + state.expectedChainId.toString(16);
  await call("wallet_switchEthereumChain", [{ chainId: hex }]);
  state.chainId = Number.parseInt(await call("eth_chainId"), 16);
  changed();
}

/** Connected, on the right chain: what every signature and transaction needs first. */
async function ready() {
  if (!state.provider) {
    if (!state.providers.length && !window.ethereum) throw new WalletError("missing");
    await connect();
  }
  if (!state.account) throw new WalletError("no_account");
  state.chainId = Number.parseInt(await call("eth_chainId"), 16);
  if (state.chainId !== state.expectedChainId) throw new WalletError("wrong_chain");
  return state.account;
}

/** Sign EIP-712 typed data exactly as the relayer built it (eth_signTypedData_v4). */
export async function signTypedData(typedData) {
  const from = await ready();
  return call("eth_signTypedData_v4", [from, JSON.stringify(typedData)]);
}

/** Send {to, data, value} from the wallet and wait for the receipt. */
export async function sendTransaction(tx) {
  const from = await ready();
  const hash = await call("eth_sendTransaction", [{ from, to: tx.to, data: tx.data, value: tx.value }]);
  for (let i = 0; i < 240; i += 1) {
    const receipt = await call("eth_getTransactionReceipt", [hash]);
    if (receipt) {
      if (receipt.status !== "0x1") throw new WalletError("failed", `transaction ${hash} reverted`);
      return receipt;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new WalletError("failed", `transaction ${hash} was not mined in time`);
}
