import { Integration } from "@effect-github/app"
import { Fault, GithubSimulator } from "@effect-github/testing"
import { assert, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Redacted, TestClock } from "effect"

// The code under test: a GitHub App that mints a read-only token for a repository.
const tokenForRepo = (owner: string, repo: string) =>
  Effect.gen(function*() {
    const github = yield* Integration.Integration
    const installation = yield* github.getRepoInstallation(owner, repo)
    return yield* github.getAccessToken(installation.id, {
      repositories: [repo],
      permissions: { contents: "read" }
    })
  })

it.scoped("mints a read-only token for one repository, surviving a 502", () =>
  Effect.gen(function*() {
    // A simulated GitHub with one organization installation, in this process (no sockets).
    const sim = yield* GithubSimulator.make({
      installations: [{ account: "octo-org", repositories: ["api", "docs"] }]
    })
    const GitHub = Integration.layerApp({
      appId: sim.app.id,
      privateKey: sim.app.privateKey,
      baseUrl: sim.baseUrl,
      secondsBetweenRequests: 0,
      secondsBetweenWrites: 0,
      retry: 3
    }).pipe(Layer.provide(sim.layer))

    yield* sim.fault("POST /app/installations/{installation_id}/access_tokens", Fault.status(502))
    const fiber = yield* Effect.fork(Effect.provide(tokenForRepo("octo-org", "api"), GitHub))
    // The retry's backoff waits on Effect's clock: TestClock moves it on without sleeping, a second at a time
    // until the program is done (signing and verifying JWTs happen off the clock, in WebCrypto).
    while (Option.isNone(yield* Fiber.poll(fiber))) yield* TestClock.adjust("1 second")
    const token = yield* Fiber.join(fiber)

    assert.deepStrictEqual(token.permissions, { contents: "read", metadata: "read" })
    assert.deepStrictEqual(token.repositories?.map((repository) => repository.name), ["api"])
    assert.isTrue(Redacted.value(token.token).startsWith("ghs_"))
    assert.strictEqual(yield* sim.count("POST /app/installations/{installation_id}/access_tokens"), 2)
  }))
