import assert from "node:assert/strict";
import { answerRequest, encodeResponse } from "./metrics_server.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const render = () => "joold_kernel_batches_total 4\n";

Deno.test("answerRequest(): routes and status codes", () => {
  const cases: [string, string, number | null][] = [
    ["Prometheus", "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", 200],
    ["a query string", "GET /metrics?name=joold HTTP/1.0\r\n\r\n", 200],
    ["bare newlines", "GET /metrics HTTP/1.1\n\n", 200],
    ["HEAD", "HEAD /metrics HTTP/1.1\r\n\r\n", 200],
    ["the root", "GET / HTTP/1.1\r\n\r\n", 200],
    ["another path", "GET /stats HTTP/1.1\r\n\r\n", 404],
    ["POST", "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405],
    ["not HTTP", "hello there\r\n\r\n", 400],
    ["HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400],
    ["incomplete", "GET /metrics HTTP/1.1\r\nHost: x\r\n", null],
    ["too long", "GET /metrics HTTP/1.1\r\n" + "X: y\r\n".repeat(800), 431],
  ];
  for (const [name, request, status] of cases) {
    const response = answerRequest(bytes(request), render);
    assert.equal(response?.status ?? null, status, name);
  }
  assert.equal(answerRequest(bytes("GET /metrics HTTP/1.1\r\n\r\n"), render)?.body, render());
  const head = answerRequest(bytes("HEAD /metrics HTTP/1.1\r\n\r\n"), render);
  assert.equal(head?.headOnly, true);
  assert.equal(answerRequest(bytes("GET /metrics HTTP/1.1\r\n\r\n"), render)?.headOnly, undefined);
});

Deno.test("encodeResponse(): HEAD gets GET's headers, Content-Length included, and no body", () => {
  const get = answerRequest(bytes("GET /metrics HTTP/1.1\r\n\r\n"), render)!;
  const head = answerRequest(bytes("HEAD /metrics HTTP/1.1\r\n\r\n"), render)!;
  const getText = new TextDecoder().decode(encodeResponse(get));
  const headText = new TextDecoder().decode(encodeResponse(head));
  assert.equal(getText, headText + render());
  assert.match(headText, /\r\nContent-Length: 29\r\n.*\r\n\r\n$/s);
});

Deno.test("encodeResponse(): status line, length in bytes, connection close", () => {
  const encoded = new TextDecoder().decode(
    encodeResponse({ status: 200, reason: "OK", contentType: "text/plain", body: "é\n" }),
  );
  assert.equal(
    encoded,
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n" +
      "Connection: close\r\n\r\né\n",
  );
});
