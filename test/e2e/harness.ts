/**
 * Shared machinery of the end-to-end suite: a client wired to the simulator (in-process or over loopback HTTP)
 * with a tap on the transport, a recording logger and tracer, a TestClock driver, secret scanning and tables.
 */
import { AppAuth, HttpRequester, InstallationTokens, Integration } from "@effect-github/app"
import { NodeHttpTransport } from "@effect-github/node"
import type { GithubSimulator } from "@effect-github/testing"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as Tracer from "effect/Tracer"
import { createHash } from "node:crypto"
import * as util from "node:util"

// --- transport tap ---------------------------------------------------------------------------------------------

/** One exchange as the client's transport saw it; credentials only as a hash. */
export interface Sent {
  readonly method: string
  readonly path: string
  readonly credential: string | undefined
  status: number | undefined
  failed: string | undefined
}

/**
 * What went over the wire: every exchange, the credentials seen in `authorization` headers (kept in memory only,
 * to search captured text for them) and how many exchanges are in flight.
 */
export class Wire {
  readonly sent: Array<Sent> = []
  readonly jwts = new Set<string>()
  readonly tokens = new Set<string>()
  inFlight = 0

  private observe(header: string): void {
    const space = header.indexOf(" ")
    const credential = header.slice(space + 1)
    if (header.startsWith("Bearer ")) this.jwts.add(credential)
    else this.tokens.add(credential)
  }

  /** Wraps a client so that every exchange is recorded. */
  tap(client: HttpClient.HttpClient): HttpClient.HttpClient {
    return HttpClient.transform(client, (effect, request) =>
      Effect.suspend(() => {
        const authorization = request.headers.authorization
        if (authorization !== undefined) this.observe(authorization)
        const entry: Sent = {
          method: request.method,
          path: new URL(request.url).pathname,
          credential: authorization === undefined ? undefined : fingerprint(authorization),
          status: undefined,
          failed: undefined
        }
        this.sent.push(entry)
        this.inFlight++
        return effect.pipe(
          Effect.tap((response) => {
            entry.status = response.status
          }),
          Effect.tapErrorCause((cause) =>
            Effect.sync(() => {
              entry.failed = Cause.isInterruptedOnly(cause) ? "interrupted" : "transport"
            })
          ),
          Effect.ensuring(Effect.sync(() => this.inFlight--))
        )
      }))
  }
}

export const fingerprint = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 16)

/**
 * Non-idempotent writes sent again after an attempt GitHub may have processed: per credential and path, every
 * send but the last must have been refused before processing (refused credentials or a rate limit: 401/403/429).
 */
export const resentWrites = (wire: Wire, method = "DELETE"): number => {
  const groups = new Map<string, Array<Sent>>()
  for (const sent of wire.sent) {
    if (sent.method !== method) continue
    const key = `${sent.credential}|${sent.path}`
    const list = groups.get(key) ?? []
    list.push(sent)
    groups.set(key, list)
  }
  let resent = 0
  for (const list of groups.values()) {
    for (let i = 0; i < list.length - 1; i++) {
      const status = list[i]!.status
      if (status !== 401 && status !== 403 && status !== 429) resent++
    }
  }
  return resent
}

// --- recording logger and tracer -------------------------------------------------------------------------------

export class RecordedSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly attributes = new Map<string, unknown>()
  readonly events: Array<{ readonly name: string; readonly attributes: Record<string, unknown> | undefined }> = []
  readonly links: Array<Tracer.SpanLink>
  readonly sampled = true
  status: Tracer.SpanStatus
  exit: Exit.Exit<unknown, unknown> | undefined

  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind,
    readonly spanId: string,
    readonly traceId: string
  ) {
    this.links = [...links]
    this.status = { _tag: "Started", startTime }
  }

  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    this.exit = exit
  }

  attribute(key: string, value: unknown): void {
    this.attributes.set(key, value)
  }

  event(name: string, _startTime: bigint, attributes?: Record<string, unknown>): void {
    this.events.push({ name, attributes })
  }

  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    this.links.push(...links)
  }

  /** Whether `ancestor` is this span or one of its parents. */
  descendsFrom(ancestor: Tracer.AnySpan): boolean {
    let current: Option.Option<Tracer.AnySpan> = Option.some(this)
    while (Option.isSome(current)) {
      if (current.value.spanId === ancestor.spanId) return true
      current = current.value._tag === "Span" ? current.value.parent : Option.none()
    }
    return false
  }
}

/** Everything a user's logger and tracer could have seen, as text. */
export class Capture {
  readonly logs: Array<string> = []
  readonly spans: Array<RecordedSpan> = []
  /** Errors and public values, rendered every way a user might render them. */
  readonly texts: Array<string> = []
  private sequence = 0

  readonly logger = Logger.make<unknown, void>((options) => {
    // what the usual loggers print, plus the raw parts
    this.logs.push(Logger.logfmtLogger.log(options))
    this.logs.push(Logger.jsonLogger.log(options))
    this.logs.push(util.inspect(Logger.structuredLogger.log(options), { depth: 8 }))
    this.logs.push(Cause.pretty(options.cause))
  })

  readonly tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind) => {
      const id = (++this.sequence).toString(16).padStart(16, "0")
      const traceId = Option.match(parent, { onNone: () => id.padStart(32, "0"), onSome: (p) => p.traceId })
      const span = new RecordedSpan(name, parent, context, links, startTime, kind, id, traceId)
      this.spans.push(span)
      return span
    },
    context: (f) => f()
  })

  /** Logs at every level and every span go here. */
  get layer(): Layer.Layer<never> {
    return Layer.mergeAll(
      Logger.replace(Logger.defaultLogger, this.logger),
      Logger.minimumLogLevel(LogLevel.All),
      Layer.setTracer(this.tracer)
    )
  }

  /** Records a value the way users print values: String, JSON.stringify, util.inspect, and a Cause for errors. */
  value(value: unknown): void {
    this.texts.push(render(value))
  }

  spanTexts(): Array<string> {
    const out: Array<string> = []
    for (const span of this.spans) {
      out.push(span.name)
      for (const [key, value] of span.attributes) out.push(`${key}=${render(value)}`)
      for (const event of span.events) out.push(`${event.name} ${render(event.attributes)}`)
      // what OpenTelemetry exporters record of an ended span: the failure's cause
      if (span.exit !== undefined && Exit.isFailure(span.exit)) {
        out.push(Cause.pretty(span.exit.cause), util.inspect(span.exit.cause, { depth: 8 }))
      }
    }
    return out
  }

  allTexts(): Array<string> {
    return [...this.logs, ...this.spanTexts(), ...this.texts]
  }
}

export const render = (value: unknown): string => {
  const parts: Array<string> = []
  try {
    parts.push(String(value))
  } catch (error) {
    parts.push(`String() threw ${String(error)}`)
  }
  try {
    parts.push(JSON.stringify(value) ?? "undefined")
  } catch (error) {
    parts.push(`JSON.stringify threw ${(error as Error).message}`)
  }
  parts.push(util.inspect(value, { depth: 8, showHidden: false, getters: true }))
  if (value instanceof Error) parts.push(value.message, value.stack ?? "", Cause.pretty(Cause.fail(value)))
  return parts.join("\n")
}

// --- secrets ---------------------------------------------------------------------------------------------------

/** The secret texts to look for: PEM body windows, JWTs and their signatures, installation tokens. */
export class Secrets {
  readonly needles = new Map<string, string>()

  privateKey(pem: string): this {
    const body = pem.split("\n").filter((line) => line !== "" && !line.startsWith("-----"))
    for (const line of body) if (line.length >= 24) this.needles.set(line, "private key line")
    // a leak may have lost the line breaks: windows of the joined body (any run of 32 characters holds one)
    const joined = body.join("")
    for (let i = 0; i + 24 <= joined.length; i += 8) this.needles.set(joined.slice(i, i + 24), "private key body")
    return this
  }

  jwt(jwt: string): this {
    this.needles.set(jwt, "JWT")
    const signature = jwt.split(".")[2]
    if (signature !== undefined && signature.length >= 32) this.needles.set(signature.slice(0, 32), "JWT signature")
    return this
  }

  token(token: string): this {
    this.needles.set(token, "installation token")
    return this
  }

  fromWire(wire: Wire): this {
    for (const jwt of wire.jwts) this.jwt(jwt)
    for (const token of wire.tokens) this.token(token)
    return this
  }

  fromSimulator(sim: GithubSimulator.Simulator): Effect.Effect<this> {
    return Effect.map(sim.tokens, (issued) => {
      for (const record of issued) this.token(Redacted.value(record.token))
      return this
    })
  }

  count(kind: string): number {
    let n = 0
    for (const label of this.needles.values()) if (label === kind) n++
    return n
  }
}

/** Looks for JWT- and token-shaped text anywhere, and for every known secret. */
const shapes: ReadonlyArray<readonly [RegExp, string]> = [
  [/ghs_[A-Za-z0-9]{20,}/, "token-shaped text"],
  [/eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{16,}/, "JWT-shaped text"],
  // a key block, not the words (error messages name the expected header)
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----\s*[A-Za-z0-9+/]{20}/, "PEM block"]
]

export interface Leak {
  readonly kind: string
  readonly where: string
}

export const scan = (texts: ReadonlyArray<string>, secrets: Secrets): Array<Leak> => {
  const leaks: Array<Leak> = []
  for (const text of texts) {
    for (const [pattern, kind] of shapes) {
      if (pattern.test(text)) leaks.push({ kind, where: excerpt(text, pattern) })
    }
    for (const [needle, kind] of secrets.needles) {
      if (text.includes(needle)) leaks.push({ kind, where: excerpt(text) })
    }
  }
  return leaks
}

// Where a leak was found, with every secret-shaped run masked (so that a failing test does not print it).
const excerpt = (text: string, pattern?: RegExp): string => {
  const index = pattern === undefined ? 0 : Math.max(0, text.search(pattern) - 40)
  return text.slice(index, index + 160).replace(/[A-Za-z0-9+/_.=-]{20,}/g, "<masked>")
}

// --- the client under test -------------------------------------------------------------------------------------

export interface Client {
  readonly github: Integration.Service
  readonly tokens: InstallationTokens.Service
  readonly auth: AppAuth.Service
  readonly requester: HttpRequester.Service
  readonly context: Context.Context<Integration.AppServices>
}

export type Transport =
  | { readonly _tag: "InProcess" }
  | { readonly _tag: "Loopback"; readonly url: string; readonly transport?: NodeHttpTransport.Options | undefined }
  | { readonly _tag: "Custom"; readonly url: string; readonly layer: Layer.Layer<HttpClient.HttpClient> }

/** Builds the client in the current scope, on a tapped transport. */
export const connect = (
  sim: GithubSimulator.Simulator,
  transport: Transport,
  wire: Wire,
  options: Partial<Integration.AppOptions> = {}
): Effect.Effect<Client, never, Scope.Scope> =>
  Effect.gen(function*() {
    const base = transport._tag === "InProcess"
      ? sim.layer
      : transport._tag === "Custom"
      ? transport.layer
      : NodeHttpTransport.layer(transport.transport)
    const tapped = Layer.effect(HttpClient.HttpClient, Effect.map(HttpClient.HttpClient, (c) => wire.tap(c))).pipe(
      Layer.provide(base)
    )
    const context = yield* Layer.build(
      Integration.layerApp({
        appId: sim.app.id,
        privateKey: sim.app.privateKey,
        baseUrl: transport._tag === "InProcess" ? sim.baseUrl : transport.url,
        secondsBetweenRequests: 0,
        secondsBetweenWrites: 0,
        // more than GitHub allows one identity (900 points a minute): the simulator here enforces no secondary
        // limits, and these tests are about other things
        pointsPerMinute: 0,
        contentCreatingPerMinute: 0,
        contentCreatingPerHour: 0,
        ...options
      }).pipe(Layer.provide(tapped))
    ).pipe(Effect.orDie)
    return {
      github: Context.get(context, Integration.Integration),
      tokens: Context.get(context, InstallationTokens.InstallationTokens),
      auth: Context.get(context, AppAuth.AppAuth),
      requester: Context.get(context, HttpRequester.HttpRequester),
      context
    }
  })

// --- TestClock driver ------------------------------------------------------------------------------------------

const liveYield = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/**
 * Runs `effect` under the TestClock, advancing virtual time only while no exchange is in flight on `wire` (so
 * that no request times out because real work was slow): straight to the next sleep when idle, else in 1 s
 * steps (a simulator `Delay` sleeps inside an exchange). Fails the test if virtual time passes `limit` ms.
 */
export const drive = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  wire: Wire,
  limit = 6 * 3_600_000
): Effect.Effect<A, E | string, R> =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const fiber = yield* Effect.fork(effect)
    let idle = 0
    while (fiber.unsafePoll() === null) {
      // two event-loop turns: a response body read after the exchange settles within them
      yield* liveYield
      yield* liveYield
      const now = yield* Clock.currentTimeMillis
      if (now - start > limit) {
        yield* Fiber.interrupt(fiber)
        return yield* Effect.fail(`still running after ${(now - start) / 1000} s of virtual time`)
      }
      if (wire.inFlight > 0) {
        // real work, or a simulator delay: give it a few turns, then let time pass
        if (++idle > 20) {
          idle = 0
          yield* TestClock.adjust("1 second")
        }
        continue
      }
      idle = 0
      const sleeps = Chunk.toReadonlyArray(yield* TestClock.sleeps())
      if (sleeps.length === 0) continue
      yield* TestClock.adjust(Math.max(1, Math.min(...sleeps) - now))
    }
    return yield* Fiber.join(fiber)
  })

/** A realistic wall-clock start for TestClock runs (GitHub's JWT rules misbehave near the epoch). */
export const epoch = Date.parse("2026-01-05T09:00:00Z")

// --- output ----------------------------------------------------------------------------------------------------

/** Prints rows as an aligned text table under a title. */
export const table = (title: string, rows: ReadonlyArray<Record<string, string | number>>): void => {
  if (rows.length === 0) return
  const columns = Object.keys(rows[0]!)
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(row[column]).length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) =>
      /^-?[\d.,]+( ?[a-zA-Z%µ/]+)?$/.test(cell) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)
    )
      .join(" | ")
  const out = [
    `\n${title}`,
    line(columns),
    widths.map((width) => "-".repeat(width)).join("-|-"),
    ...rows.map((row) => line(columns.map((column) => String(row[column]))))
  ]
  console.log(out.join("\n"))
}

/** A small deterministic PRNG (mulberry32), so that a failing run can be replayed. */
export const prng = (seed: number) => {
  let state = seed >>> 0
  return (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
