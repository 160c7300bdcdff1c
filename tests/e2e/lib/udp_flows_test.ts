import assert from "node:assert/strict";
import { parseFlowPlan } from "./udp_flows.ts";

Deno.test("udp_flows: the command line becomes a plan", () => {
  assert.deepEqual(parseFlowPlan(["64:ff9b::192.0.2.2", "7777", "20000", "1000"]), {
    destination: "64:ff9b::192.0.2.2",
    destinationPort: 7777,
    firstSourcePort: 20000,
    count: 1000,
  });
  assert.equal(parseFlowPlan(["::1", "1", "65535", "1"]).firstSourcePort, 65535);
});

Deno.test("udp_flows: bad command lines are refused with the reason", () => {
  const cases: { words: string[]; want: RegExp }[] = [
    { words: ["::1", "7777", "20000"], want: /got 3 arguments/ },
    { words: ["192.0.2.2", "7777", "20000", "10"], want: /Not an IPv6 address: 192\.0\.2\.2/ },
    { words: ["::1", "0", "20000", "10"], want: /Invalid destination port: 0/ },
    { words: ["::1", "7777", "x", "10"], want: /Invalid first source port: x/ },
    { words: ["::1", "7777", "20000", "0"], want: /Invalid count: 0/ },
    { words: ["::1", "7777", "65000", "1000"], want: /go past 65535/ },
  ];
  for (const c of cases) assert.throws(() => parseFlowPlan(c.words), c.want, c.words.join(" "));
});
