// winrm-client.js - drives the npm package "winrm-client" (a real WinRM
// client whose NTLM messages omit the optional Version field) for the
// winrmd tests.
//
//   node winrm-client.js identify HOST PORT USER PASSWORD
//   node winrm-client.js run HOST PORT USER PASSWORD COMMAND
//
// Prints one JSON line {ok, result|error}; exit status 0 when ok.
'use strict';
const path = require('path');
// scripts/install-deps.sh installs the packages into WINRMD_NODE_DIR
const lib = path.join(process.env.WINRMD_NODE_DIR || __dirname, 'node_modules', 'winrm-client');
const winrm = require(lib);
const { sendHttp } = require(path.join(lib, 'dist', 'src', 'utils', 'http'));
const { detectAuthMethod } = require(path.join(lib, 'dist', 'src', 'utils', 'auth'));

const IDENTIFY =
  '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
  'xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">' +
  '<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>';

async function main() {
  const [op, host, port, user, password, command] = process.argv.slice(2);
  let result;
  if (op === 'identify') {
    result = await sendHttp(IDENTIFY, host, Number(port), '/wsman', user, password,
      detectAuthMethod(user), 20000, false, false);
  } else if (op === 'run') {
    result = await winrm.runCommand(command, host, user, password, Number(port));
  } else {
    throw new Error('unknown operation ' + op);
  }
  process.stdout.write(JSON.stringify({ ok: true, result }) + '\n');
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.message || e) }) + '\n');
  process.exit(1);
});
