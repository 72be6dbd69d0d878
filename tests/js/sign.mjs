// Sign CivicDAO EIP-712 messages with ethers v6, as a browser wallet would.
//
// Reads one JSON object on stdin and writes one JSON object on stdout:
//   {"privateKey": "0x…", "typedData": {…eth_signTypedData_v4 JSON…}}
//       signs the given typed data (EIP712Domain is dropped from `types`: ethers derives it from `domain`);
//   {"privateKey": "0x…", "build": {"kind": "Ballot" | "Delegation", "domain": {…}, "message": {…}}}
//       builds the types here, independently of civicdao.signing, and signs.
// Output: {"signature": "0x…", "digest": "0x…", "address": "0x…", "typedData": {…what was signed…}}.
// The key travels on stdin, never on the command line.
import { TypedDataEncoder, Wallet } from "ethers";

// The structs as OpenZeppelin 5.3 declares them (Governor.BALLOT_TYPEHASH, Votes.DELEGATION_TYPEHASH).
const TYPES = {
  Ballot: [
    { name: "proposalId", type: "uint256" },
    { name: "support", type: "uint8" },
    { name: "voter", type: "address" },
    { name: "nonce", type: "uint256" },
  ],
  Delegation: [
    { name: "delegatee", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
};

const DOMAIN_FIELDS = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
];

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

const input = await readStdin();
const wallet = new Wallet(input.privateKey);
let domain;
let types;
let message;
let primaryType;
if (input.typedData) {
  ({ domain, message, primaryType } = input.typedData);
  types = { ...input.typedData.types };
  delete types.EIP712Domain;
} else if (input.build) {
  ({ domain, message } = input.build);
  primaryType = input.build.kind;
  if (!TYPES[primaryType]) throw new Error(`unknown kind ${primaryType}`);
  types = { [primaryType]: TYPES[primaryType] };
} else {
  throw new Error("give typedData or build");
}
const signature = await wallet.signTypedData(domain, types, message);
const digest = TypedDataEncoder.hash(domain, types, message);
const typedData = { types: { EIP712Domain: DOMAIN_FIELDS, ...types }, primaryType, domain, message };
// Let Node exit on its own so stdout is flushed completely.
process.stdout.write(JSON.stringify({ signature, digest, address: wallet.address, typedData }));
