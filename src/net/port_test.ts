import assert from "node:assert/strict";
import { parsePort, type PortForms } from "./port.ts";

const SERVICES: Record<string, number> = { domain: 53, zero: 0, huge: 70000 };
const lookup = (name: string) => SERVICES[name] ?? null;

Deno.test("parsePort(): every form, every flag and key", () => {
  const cases: [string, PortForms, number | string][] = [
    ["1", "number", 1],
    ["65535", "number", 65535],
    ["06464", "number", 6464],
    ["0", "number", "must be a port number from 1 to 65535, got 'x'"],
    ["65536", "number", "must be a port number from 1 to 65535, got 'x'"],
    ["domain", "number", "must be a port number from 1 to 65535, got 'x'"],
    ["", "number", "must be a port number from 1 to 65535, got 'x'"],
    ["-1", "number", "must be a port number from 1 to 65535, got 'x'"],
    // A name screened now, resolved later on the machine.
    ["domain", "number or name", 0],
    ["0", "number or name", "must be a port number from 1 to 65535, got 'x'"],
    ["", "number or name", "must be a port number from 1 to 65535 or a service name, got 'x'"],
    [" 53", "number or name", "must be a port number from 1 to 65535 or a service name, got 'x'"],
    ["+53", "number or name", "must be a port number from 1 to 65535 or a service name, got 'x'"],
    ["a\tb", "number or name", "must be a port number from 1 to 65535 or a service name, got 'x'"],
    [
      "a\x7fb",
      "number or name",
      "must be a port number from 1 to 65535 or a service name, got 'x'",
    ],
    // A name resolved now.
    ["domain", "number or resolved name", 53],
    ["6464", "number or resolved name", 6464],
    [
      "nope",
      "number or resolved name",
      "must be a port number from 1 to 65535 or a UDP service name from /etc/services, got 'x'",
    ],
    ["zero", "number or resolved name", "service 'x' has the unusable port 0"],
    ["huge", "number or resolved name", "service 'x' has the unusable port 70000"],
  ];
  for (const [text, forms, expected] of cases) {
    const got = parsePort(text, forms, "'x'", lookup);
    assert.deepEqual(
      got,
      typeof expected === "number" ? expected : { problem: expected },
      `${JSON.stringify(text)} as ${forms}`,
    );
  }
});
