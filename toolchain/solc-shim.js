#!/usr/bin/env node
// Answers the native `solc --version` and `solc --standard-json` interface with solc-js (npm `solc`),
// so py-solc-x and Brownie compile with the wasm build where no native binary can be downloaded.
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');

function optionValues(argv, name) {
  const values = [];
  argv.forEach((arg, i) => {
    if (arg === name && i + 1 < argv.length) values.push(...argv[i + 1].split(','));
    else if (arg.startsWith(name + '=')) values.push(...arg.slice(name.length + 1).split(','));
  });
  return values;
}

function importResolver(argv) {
  const roots = [
    ...optionValues(argv, '--base-path'),
    ...optionValues(argv, '--include-path'),
    ...optionValues(argv, '--allow-paths'),
    process.cwd(),
  ];
  return (importPath) => {
    const candidates = path.isAbsolute(importPath)
      ? [importPath]
      : roots.map((root) => path.resolve(root, importPath));
    for (const candidate of candidates) {
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
        return { contents: fs.readFileSync(candidate, 'utf8') };
      }
    }
    return { error: `File not found: ${importPath}` };
  };
}

function main(argv) {
  if (argv.includes('--version')) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (!argv.includes('--standard-json')) {
    process.stderr.write('solc-shim: only --version and --standard-json are supported\n');
    process.exitCode = 2;
    return;
  }
  const input = fs.readFileSync(0, 'utf8');
  // No process.exit() here: exiting right after a write into a pipe truncates the output at 64 KiB.
  process.stdout.write(solc.compile(input, { import: importResolver(argv) }));
}

main(process.argv.slice(2));
