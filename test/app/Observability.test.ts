/**
 * README's "Observability" section, run: @effect/opentelemetry's NodeSdk with in-memory exporters around a program
 * against the simulator. Every request is a span with its method, route template, status and attempt (a 502
 * retried shows two); the token cache's metrics reach the metric exporter; no span shows a key, JWT or token.
 */
import { AppAuth, Integration } from "@effect-github/app"
import { Fault, GithubSimulator } from "@effect-github/testing"
import { NodeSdk } from "@effect/opentelemetry"
import { assert, describe, it } from "@effect/vitest"
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader
} from "@opentelemetry/sdk-metrics"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Chunk, Effect, Layer, Redacted, Schedule, Stream } from "effect"

// The README's wiring, with in-memory exporters in place of the console or OTLP ones.
const spanExporter = new InMemorySpanExporter()
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
const metricReader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 })
const Telemetry = NodeSdk.layer(() => ({
  resource: { serviceName: "my-github-app" },
  spanProcessor: new SimpleSpanProcessor(spanExporter),
  metricReader
}))

const MINT = "/app/installations/{installation_id}/access_tokens"

/** Every string a span carries: name, attribute keys and values, events, status, resource. */
const texts = (span: ReadableSpan): Array<string> => [
  span.name,
  ...Object.entries(span.attributes).flatMap(([key, value]) => [key, String(value)]),
  ...span.events.flatMap((event) => [event.name, JSON.stringify(event.attributes ?? {})]),
  span.status.message ?? "",
  JSON.stringify(span.resource.attributes)
]

const metricValue = (name: string): number | undefined => {
  const metrics = metricExporter.getMetrics().flatMap((resource) =>
    resource.scopeMetrics.flatMap((scope) => scope.metrics)
  )
  const found = metrics.filter((metric) => metric.descriptor.name === name).at(-1)
  const point = found?.dataPoints.at(-1)
  return point === undefined ? undefined : Number(point.value)
}

describe("OpenTelemetry (README: Observability)", () => {
  it.live("each request is a span; the token cache's metrics reach the exporter; no secret in a span", () =>
    Effect.gen(function*() {
      const sim = yield* GithubSimulator.make({
        installations: [{ account: "octo-org", repositories: ["api", "docs"] }],
        installationCount: 2
      })
      const GitHub = Integration.layerApp({
        appId: sim.app.id,
        privateKey: sim.app.privateKey,
        baseUrl: sim.baseUrl,
        perPage: 2,
        retry: Schedule.recurs(2),
        secondsBetweenRequests: 0,
        secondsBetweenWrites: 0
      }).pipe(Layer.provide(sim.layer))

      const installationId = sim.installations[0]!.id
      const secrets = yield* Effect.gen(function*() {
        const github = yield* Integration.Integration
        const auth = yield* AppAuth.AppAuth
        yield* github.getApp()
        yield* sim.fault("GET /app", Fault.status(502))
        yield* github.getApp() // a 502, then the retry's 200: two spans
        yield* Stream.runDrain(github.getInstallations()) // 3 installations, 2 per page: two spans
        const token = yield* github.getAccessToken(installationId) // a mint
        yield* github.getAccessToken(installationId) // a cache hit, no request
        const ref = yield* github.installation(installationId)
        const repositories = yield* Stream.runCollect(ref.repositories())
        assert.isAbove(Chunk.size(repositories), 0)
        return [Redacted.value(yield* auth.jwt), Redacted.value(token.token), Redacted.value(sim.app.privateKey)]
      }).pipe(Effect.provide(GitHub))
      yield* Effect.promise(() => metricReader.forceFlush())

      const spans = spanExporter.getFinishedSpans()
      const requests = spans.filter((span) => span.name.startsWith("GitHub "))
      const seen = requests.map((span) =>
        [
          span.attributes["http.request.method"],
          span.attributes["http.route"],
          span.attributes["http.response.status_code"],
          span.attributes["github.attempt"]
        ].join(" ")
      )
      assert.deepStrictEqual(seen, [
        "GET /app 200 1",
        "GET /app 502 1",
        "GET /app 200 2",
        "GET /app/installations 200 1",
        "GET /app/installations 200 1",
        `POST ${MINT} 201 1`,
        "GET /installation/repositories 200 1"
      ])
      for (const span of requests) {
        assert.strictEqual(
          span.name,
          `GitHub ${span.attributes["http.request.method"]} ${span.attributes["http.route"]}`
        )
        assert.strictEqual(typeof span.attributes["github.ratelimit.remaining"], "number", "the rate limit seen")
      }
      // The route is the template: the installation id is not in it.
      assert.isTrue(requests.every((span) => !/\d/.test(String(span.attributes["http.route"]))))
      // Who each request acted as, where the request path names it: the app for JWT routes, else the installation.
      const identities = requests.map((span) => span.attributes["github.identity"])
      if (identities.some((identity) => identity !== undefined)) {
        assert.isTrue(identities.every((identity) => typeof identity === "string" && identity !== ""))
        const asApp = new Set(identities.slice(0, 6))
        assert.strictEqual(asApp.size, 1, "one identity for every app-JWT request")
        assert.notStrictEqual(identities[6], identities[0], "the installation is another identity")
      }
      const mint = spans.find((span) => span.name === "InstallationTokens.mint")
      assert.strictEqual(mint?.attributes["github.installation_id"], installationId)

      // No key, JWT or token text in any span (JWT and token are whole strings; the key by a slice of its body).
      const keyBody = secrets[2]!.split("\n")[2]!.slice(0, 40)
      for (const span of spans) {
        for (const text of texts(span)) {
          for (const secret of [secrets[0]!, secrets[1]!, keyBody]) {
            assert.isFalse(text.includes(secret), `a secret in span ${span.name}: ${text.slice(0, 80)}`)
          }
          assert.notMatch(text, /Bearer |token [a-z]|ghs_|eyJ/, `a credential in span ${span.name}`)
        }
      }

      // The token cache's Effect metrics, exported through OpenTelemetry.
      assert.isAtLeast(metricValue("github_app_token_mints") ?? 0, 1)
      assert.isAtLeast(metricValue("github_app_token_cache_misses") ?? 0, 1)
      assert.isAtLeast(metricValue("github_app_token_cache_hits") ?? 0, 1)
      assert.strictEqual(metricValue("github_app_token_mints_in_flight"), 0)
    }).pipe(Effect.provide(Telemetry), Effect.scoped))
})
