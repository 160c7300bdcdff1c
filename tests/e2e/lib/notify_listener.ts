/**
 * systemd's end of the notification protocol (sd_notify) for the VM's unit
 * supervisor (tests/e2e/lib/unit_supervisor.sh): binds an AF_UNIX datagram
 * socket at PATH, lets every user send to it (the service runs as its unit's
 * user), and appends each message to LOG as `EPOCH_MS LINE` lines, one per
 * assignment it holds. Runs until killed.
 *
 * ```sh
 * deno run --allow-all --unstable-net --no-config tests/e2e/lib/notify_listener.ts PATH LOG
 * ```
 *
 * @module
 */

const [path, log] = Deno.args;
if (path === undefined || log === undefined) {
  console.error("usage: notify_listener.ts PATH LOG");
  Deno.exit(2);
}
await Deno.remove(path).catch(() => {});
const listener = Deno.listenDatagram({ transport: "unixpacket", path });
await Deno.chmod(path, 0o777);
const out = await Deno.open(log, { append: true, create: true });
const encoder = new TextEncoder();
const decoder = new TextDecoder();
for (;;) {
  const [data] = await listener.receive();
  const now = Date.now();
  const lines = decoder.decode(data).split("\n").filter((line) => line !== "");
  await out.write(encoder.encode(lines.map((line) => `${now} ${line}\n`).join("")));
}
