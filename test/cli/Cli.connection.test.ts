import { Fault } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Https from "node:https"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { runCli, startSimulator } from "./helpers.js"

// What a CLI user may set is a flag: no message may send them to a library option they cannot reach.
const libraryWords = /\b(baseUrl|maxRateLimitWait|secondsBetweenRequests|allowInsecureHttp|perPage|raise the timeout)\b/

/** A port nothing listens on (taken, then released). */
const closedPort = Effect.async<number>((resume) => {
  const server = Net.createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address() as Net.AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

describe("github-app retries and connection flags", () => {
  it.scopedLive("a transport failure: one retrying line per retry on stderr, then a message naming CLI flags", () =>
    Effect.gen(function*() {
      const { env } = yield* startSimulator()
      const port = yield* closedPort
      const result = yield* runCli(["app", "--retries", "2"], {
        env: { ...env, GITHUB_API_URL: `http://127.0.0.1:${port}` }
      })
      assert.strictEqual(result.code, 1)
      assert.strictEqual(result.stdout, "")
      const lines = result.stderr.split("\n")
      const retries = lines.filter((line) => line.startsWith("retrying "))
      assert.strictEqual(retries.length, 2, result.stderr)
      assert.match(retries[0]!, /^retrying GET \/app: .*ECONNREFUSED.* \(attempt 2( of 3)?, next in [\d.]+ s\)$/)
      assert.match(retries[1]!, /^retrying GET \/app: .+ \(attempt 3[ ,]/)
      const message = lines.at(-1)!
      assert.match(message, /^Could not connect to GitHub \(GET \/app\): /)
      assert.include(message, "--base-url")
      assert.notMatch(result.stderr, libraryWords)
    }))

  it.scopedLive("--retries 0 gives up at the first failure; --retries 1 survives one", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      yield* sim.fault("GET /app", Fault.status(502))
      const none = yield* runCli(["app", "--retries", "0"], { env })
      assert.strictEqual(none.code, 1)
      assert.match(none.stderr, /^GitHub server error \(502\)/)
      assert.notInclude(none.stderr, "retrying")
      assert.strictEqual(yield* sim.count("GET /app"), 1)

      yield* sim.fault("GET /app", Fault.status(502))
      const one = yield* runCli(["app", "--retries", "1", "--json"], { env })
      assert.strictEqual(one.code, 0, one.stderr)
      assert.strictEqual(JSON.parse(one.stdout).id, sim.app.id)
      assert.strictEqual(yield* sim.count("GET /app"), 3)
    }))

  it.scopedLive("--timeout bounds each attempt, and the message says which flag to raise", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      // Without the flag, the 15 s default would outwait this delay and succeed.
      yield* sim.fault("GET /app", Fault.delay("8 seconds"))
      const result = yield* runCli(["app", "--timeout", "0.3", "--retries", "0"], { env })
      assert.strictEqual(result.code, 1)
      assert.match(result.stderr, /^GitHub did not answer in time \(GET \/app\): /)
      assert.include(result.stderr, "Raise --timeout")
      assert.notMatch(result.stderr, libraryWords)
    }))

  it.scopedLive("bad connection flags are usage errors before any request", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["--timeout", "0"], "--timeout must be a positive number of seconds"],
        [["--retries", "-1"], "--retries must be 0 or more"],
        [["--ca-file", "/nonexistent/ca.pem", "--insecure-skip-verify"], "exclude each other"],
        [["--ca-file", "/nonexistent/ca.pem"], "Invalid --ca-file: cannot read the CA bundle"]
      ]
      for (const [flags, expected] of cases) {
        const result = yield* runCli(["app", ...flags], { env })
        assert.strictEqual(result.code, 2, flags.join(" "))
        assert.include(result.stderr, expected)
        assert.notMatch(result.stderr, libraryWords)
      }
      const revoke = yield* runCli(["revoke", "--token", "ghs_x", "--timeout", "-3"], { env })
      assert.strictEqual(revoke.code, 2)
      assert.include(revoke.stderr, "--timeout must be a positive number")
      assert.strictEqual(yield* sim.count("*"), 0)
    }))

  it.scopedLive("a rate limit's message names no library option", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      yield* sim.fault("GET /app", Fault.primaryRateLimit({ resetAfter: "30 minutes" }))
      const result = yield* runCli(["app"], { env })
      assert.strictEqual(result.code, 1)
      assert.match(result.stderr, /^Primary rate limit exhausted \(GET \/app\)/)
      assert.include(result.stderr, "It resets at ")
      assert.notMatch(result.stderr, libraryWords)
    }))
})

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

/** A self-made CA and a certificate for 127.0.0.1 it signed. */
const certificates = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-github-cli-tls-"))
    const run = (...args: Array<string>) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" })
    run(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=CA"
    )
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    Fs.writeFileSync(Path.join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    run(
      ..."x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2".split(" "),
      "-extfile",
      "ext.cnf"
    )
    const read = (name: string) => Fs.readFileSync(Path.join(dir, name), "utf8")
    return { dir, ca: Path.join(dir, "ca.pem"), key: read("server.key"), cert: read("server.pem") }
  }),
  ({ dir }) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

/** HTTPS in front of the simulator, as a GHES with an internal CA would be. */
const tlsFront = (target: string, tls: { readonly key: string; readonly cert: string }) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly server: Https.Server }>((resume) => {
      const upstream = new URL(target)
      const server = Https.createServer(tls, (req, res) => {
        const forward = Http.request(
          { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
          (reply) => {
            res.writeHead(reply.statusCode ?? 502, reply.headers)
            reply.pipe(res)
          }
        )
        req.pipe(forward)
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as Net.AddressInfo
        resume(Effect.succeed({ url: `https://127.0.0.1:${port}`, server }))
      })
    }),
    ({ server }) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )

describe.skipIf(!hasOpenssl)("github-app TLS flags", () => {
  it.scopedLive("an unknown CA is refused with a hint at --ca-file; --ca-file and --insecure-skip-verify pass", () =>
    Effect.gen(function*() {
      const tls = yield* certificates
      const { env, sim, url } = yield* startSimulator()
      const front = yield* tlsFront(url, tls)
      const at = { ...env, GITHUB_API_URL: front.url }

      const strict = yield* runCli(["app", "--retries", "0"], { env: at })
      assert.strictEqual(strict.code, 1)
      assert.include(strict.stderr, "give its CA bundle with --ca-file")
      assert.notMatch(strict.stderr, libraryWords)

      const withCa = yield* runCli(["app", "--json", "--ca-file", tls.ca], { env: at })
      assert.strictEqual(withCa.code, 0, withCa.stderr)
      assert.strictEqual(JSON.parse(withCa.stdout).id, sim.app.id)

      const unverified = yield* runCli(["token", "--installation", "1", "--insecure-skip-verify"], { env: at })
      assert.strictEqual(unverified.code, 0, unverified.stderr)
      assert.match(unverified.stdout, /^ghs_\w+$/)
    }))
})
