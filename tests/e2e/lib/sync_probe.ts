/**
 * A test tool on the sync link for the `auth` and `unicast` end-to-end
 * scenarios, joined to GROUP and PORT as a daemon would (the project's
 * MulticastSocket), in and out of IFACE (an IPv4 group: the interface's
 * address; an IPv6 group: its name):
 *
 * ```sh
 * sync_probe.ts GROUP PORT IFACE capture OUT TIMEOUT_S [FROM]  # the first sealed one (from FROM)
 * sync_probe.ts GROUP PORT IFACE replay IN COUNT   # IN, sent to the group COUNT times
 * sync_probe.ts GROUP PORT IFACE send COUNT        # COUNT small datagrams to the group
 * sync_probe.ts GROUP PORT IFACE listen SECONDS    # prints how many datagrams arrived
 * ```
 *
 * It runs offline without the project's configuration (no JSON loader), so
 * it builds the socket's options itself.
 *
 * @module
 */

import { Libc } from "../../../ffi/libc.ts";
import { Sockets } from "../../../ffi/sockets.ts";
import { SEALED_MAGIC } from "../../../src/auth/sealed_datagram.ts";
import { interfaceIndex } from "../../../ffi/interfaces.ts";
import type { InterfaceChoice } from "../../../src/config/netsocket.ts";
import { MulticastSocket } from "../../../src/sync/multicast_socket.ts";
import { formatIp, parseIp, parseIPv4 } from "../../../src/net/ip.ts";

const [groupText, portText, iface, command, ...rest] = Deno.args;
const libc = Libc.open();
const group = parseIp(groupText);
if (group === null) throw new Error(`Not a group: ${groupText}`);
const ipv4 = group.length === 4;
let choice: InterfaceChoice;
if (ipv4) {
  const address = parseIPv4(iface);
  if (address === null) throw new Error(`Not an IPv4 address: ${iface}`);
  choice = { kind: "address", text: iface, address, name: "sync0" };
} else {
  const index = interfaceIndex(libc, iface);
  if (index === 0) throw new Error(`No interface ${iface} in this namespace`);
  choice = { kind: "name", text: iface, index };
}
const socket = MulticastSocket.open(new Sockets(libc), {
  family: ipv4 ? "ipv4" : "ipv6",
  address: groupText,
  group,
  port: Number(portText),
  inInterface: choice,
  outInterface: choice,
  ttl: 3,
});
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isSealed(data: Uint8Array): boolean {
  return data.byteLength > 32 && SEALED_MAGIC.every((byte, i) => data[i] === byte);
}

let status = 0;
if (command === "capture") {
  const [out, timeout, from] = rest;
  const deadline = Date.now() + Number(timeout) * 1000;
  let captured: Uint8Array | null = null;
  while (captured === null && Date.now() < deadline) {
    const datagram = socket.receive();
    if (datagram === null) await pause(10);
    else if (
      isSealed(datagram.data) &&
      (from === undefined || (datagram.from !== null && formatIp(datagram.from.address) === from))
    ) {
      captured = datagram.data.slice();
    }
  }
  if (captured === null) {
    console.error(`no sealed datagram within ${timeout} s`);
    status = 1;
  } else {
    await Deno.writeFile(out, captured);
    console.log(`captured a sealed datagram of ${captured.byteLength} bytes`);
  }
} else if (command === "replay" || command === "send") {
  const payload = command === "replay"
    ? await Deno.readFile(rest[0])
    : new TextEncoder().encode("probe");
  const count = Number(command === "replay" ? rest[1] : rest[0]);
  for (let i = 0; i < count; i++) {
    socket.send(payload);
    await pause(20);
  }
  console.log(`sent ${count} datagrams of ${payload.byteLength} bytes`);
} else if (command === "listen") {
  const deadline = Date.now() + Number(rest[0]) * 1000;
  let count = 0;
  while (Date.now() < deadline) {
    if (socket.receive() === null) await pause(10);
    else count++;
  }
  console.log(count);
} else {
  console.error(`unknown command: ${command}`);
  status = 2;
}
socket.close();
libc.close();
Deno.exit(status);
