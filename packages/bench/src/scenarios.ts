/**
 * What every runner does, identically: the scenarios, their sizes, the contract a runner implements, the timed
 * harness that runs inside each runner process, and the checks that make a wrong result fail the bench.
 *
 * @since 0.1.0
 */
import * as crypto from "node:crypto"

/** @since 0.1.0 */
export type RunnerName = "floor" | "octokit" | "ours" | "ours-promise"

/** @since 0.1.0 */
export const runnerNames: ReadonlyArray<RunnerName> = ["floor", "octokit", "ours", "ours-promise"]

/** @since 0.1.0 */
export type ScenarioId = "S1" | "S2" | "S3" | "S4" | "S5"

/** @since 0.1.0 */
export const scenarioIds: ReadonlyArray<ScenarioId> = ["S1", "S2", "S3", "S4", "S5"]

/**
 * Two apps on the fake, told apart by the JWT's `iss`: the small one has the installations of S1..S4, the large
 * one the installations that S5 streams.
 *
 * @since 0.1.0
 */
export const apps = {
  small: { id: 1001, slug: "bench-small", installationIdBase: 10_000_000 },
  large: { id: 1002, slug: "bench-large", installationIdBase: 20_000_000 }
} as const

/** The id of the `index`-th (1-based) installation of an app. @since 0.1.0 */
export const installationId = (app: keyof typeof apps, index: number): number => apps[app].installationIdBase + index

/** @since 0.1.0 */
export interface Sizes {
  /** S1: sequential `GET /app`. */
  readonly getApp: number
  /** S2: installations of the small app (all listed). */
  readonly installations: number
  readonly perPage: number
  /** S3: distinct installations minted, then read again from the cache. */
  readonly tokens: number
  readonly tokenWorkers: number
  /** S3: concurrent callers for one fresh installation. */
  readonly singleFlightCallers: number
  /** S4: fresh JWT signatures. */
  readonly jwts: number
  /** S5: installations of the large app (streamed). */
  readonly streamed: number
  /** S5: the item count after which RSS is first recorded. */
  readonly streamedEarly: number
  /** S5: allowed growth of the heap after GC from `streamedEarly` items to the end, in MiB. */
  readonly streamedRetainedSlackMiB: number
  /** S5: allowed growth of peak RSS from the middle window to the last one, in MiB (loose: V8 heap sizing). */
  readonly streamedRssSlackMiB: number
}

/** @since 0.1.0 */
export const fullSizes: Sizes = {
  getApp: 2_000,
  installations: 10_000,
  perPage: 100,
  tokens: 1_000,
  tokenWorkers: 16,
  singleFlightCallers: 8,
  jwts: 10_000,
  streamed: 100_000,
  streamedEarly: 10_000,
  streamedRetainedSlackMiB: 8,
  streamedRssSlackMiB: 64
}

/** @since 0.1.0 */
export const quickSizes: Sizes = {
  getApp: 200,
  installations: 10_000,
  perPage: 100,
  tokens: 200,
  tokenWorkers: 16,
  singleFlightCallers: 8,
  jwts: 1_000,
  streamed: 20_000,
  streamedEarly: 10_000,
  streamedRetainedSlackMiB: 8,
  streamedRssSlackMiB: 64
}

/** @since 0.1.0 */
export const scenarioTitles: Record<ScenarioId, string> = {
  S1: "GET /app, sequential (cold, then warm in the same process)",
  S2: "list all installations of the small app, per_page=100 (cold, then warm)",
  S3: "installation tokens for distinct installations with 16 workers (cold), the same again (cache hits), " +
    "concurrent callers for one fresh installation (single-flight), other distinct installations (warm)",
  S4: "fresh JWT signatures (no HTTP)",
  S5: "stream the large app's installations (memory)"
}

/** What a runner is told in its process. @since 0.1.0 */
export interface Task {
  readonly runner: RunnerName
  readonly scenario: ScenarioId
  /** `http://127.0.0.1:<port>/api/v3`, GHES-shaped so no client rewrites a bare host. */
  readonly baseUrl: string
  readonly privateKeyPem: string
  readonly publicKeyPem: string
  readonly sizes: Sizes
}

/** @since 0.1.0 */
export interface Token {
  readonly token: string
  /** Epoch milliseconds. */
  readonly expiresAt: number
}

/**
 * The work each runner implements in its own idiom. Everything a user builds once (clients, runtimes, parsed
 * keys) is built by the factory, outside the timed region.
 *
 * @since 0.1.0
 */
export interface Client {
  /** `GET /app` `n` times, one after the other; the `id` of each response. */
  readonly getApp: (n: number) => Promise<ReadonlyArray<number>>
  /** Every installation of the app, page by page at `perPage`, each id handed to `onItem` as it arrives. */
  readonly listInstallations: (perPage: number, onItem: (id: number) => void) => Promise<void>
  /** A token for each id, at most `concurrency` in flight, in the order of `ids`. */
  readonly tokens: (ids: ReadonlyArray<number>, concurrency: number) => Promise<ReadonlyArray<Token>>
  /** `n` freshly signed app JWTs. */
  readonly jwts: (n: number) => Promise<ReadonlyArray<string>>
  readonly close: () => Promise<void>
}

/** @since 0.1.0 */
export type ClientFactory = (options: { readonly appId: number; readonly task: Task }) => Promise<Client>

/** One timed region, measured inside the runner process. @since 0.1.0 */
export interface Phase {
  readonly phase: string
  readonly ops: number
  readonly wallMs: number
  readonly cpuMs: number
}

/** @since 0.1.0 */
export interface Memory {
  readonly rssStartMiB: number
  /** Peak RSS over items 1..early, early..mid and mid..late. */
  readonly peakRssEarlyMiB: number
  readonly peakRssMidMiB: number
  readonly peakRssLateMiB: number
  /** `heapUsed` right after a full GC at items early, mid and late. */
  readonly heapAfterGcEarlyMiB: number
  readonly heapAfterGcMidMiB: number
  readonly heapAfterGcLateMiB: number
  readonly early: number
  readonly mid: number
  readonly late: number
}

/** What a runner process sends back. @since 0.1.0 */
export interface Report {
  readonly runner: RunnerName
  readonly scenario: ScenarioId
  readonly phases: ReadonlyArray<Phase>
  readonly memory?: Memory | undefined
  /** Failed checks; the bench stops on the first report that has any. */
  readonly failures: ReadonlyArray<string>
  /** Ids the server must have minted exactly one token for (S3); the single-flight one is last. */
  readonly mintedIds?: ReadonlyArray<number> | undefined
}

/** A worker pool for promise-based runners: `concurrency` workers take the next index until none is left. */
export const pool = async <A>(
  count: number,
  concurrency: number,
  f: (index: number) => Promise<A>
): Promise<Array<A>> => {
  const out = new Array<A>(count)
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      out[i] = await f(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return out
}

/** Parses `Link: <url>; rel="next"` (absolute URL, as GitHub sends it). */
export const nextLink = (link: string | null | undefined): string | undefined => {
  if (!link) return undefined
  const match = /<([^>]+)>;\s*rel="next"/.exec(link)
  return match ? match[1] : undefined
}

const mib = (bytes: number) => Math.round((bytes / 1_048_576) * 10) / 10

/** Measures `f`, less what the harness itself spent inside it (`excluded`, e.g. forced GCs). */
const timed = async <A>(
  phases: Array<Phase>,
  phase: string,
  ops: number,
  f: () => Promise<A>,
  excluded = { wallMs: 0, cpuMs: 0 }
): Promise<A> => {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const out = await f()
  const wallMs = performance.now() - t0 - excluded.wallMs
  const cpu = process.cpuUsage(cpu0)
  phases.push({ phase, ops, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 - excluded.cpuMs })
  return out
}

const tokenPattern = /^ghs_[A-Za-z0-9]{36}$/

const checkTokens = (
  failures: Array<string>,
  label: string,
  tokens: ReadonlyArray<Token>,
  expected: number,
  startedAt: number
) => {
  if (tokens.length !== expected) failures.push(`${label}: ${tokens.length} tokens, expected ${expected}`)
  const lo = startedAt + 59 * 60_000
  const hi = Date.now() + 61 * 60_000
  tokens.forEach((t, i) => {
    if (typeof t?.token !== "string" || !tokenPattern.test(t.token)) {
      failures.push(`${label}[${i}]: token does not look like ghs_ + 36 alphanumerics`)
    } else if (!(t.expiresAt >= lo && t.expiresAt <= hi)) {
      failures.push(`${label}[${i}]: expires_at ${new Date(t.expiresAt).toISOString()} is not about now + 1 h`)
    }
  })
}

const checkIds = (failures: Array<string>, label: string, seen: Uint8Array, count: number, duplicates: number) => {
  if (duplicates > 0) failures.push(`${label}: ${duplicates} duplicate installation ids`)
  let missing = 0
  for (let i = 1; i < seen.length; i++) if (seen[i] === 0) missing++
  if (missing > 0) failures.push(`${label}: ${missing} installations missing`)
  if (count !== seen.length - 1) failures.push(`${label}: ${count} items, expected ${seen.length - 1}`)
}

/** Records each id in a bitmap (index = id - base), counting out-of-range ids and duplicates. */
const idRecorder = (base: number, total: number) => {
  const seen = new Uint8Array(total + 1)
  const state = { count: 0, duplicates: 0, foreign: 0 }
  const record = (id: number) => {
    state.count++
    const i = id - base
    if (!(i >= 1 && i <= total)) state.foreign++
    else if (seen[i]++ !== 0) state.duplicates++
  }
  return { seen, state, record }
}

const verifyJwts = (failures: Array<string>, jwts: ReadonlyArray<string>, n: number, publicKeyPem: string) => {
  if (jwts.length !== n) failures.push(`S4: ${jwts.length} JWTs, expected ${n}`)
  const key = crypto.createPublicKey(publicKeyPem)
  const now = Math.floor(Date.now() / 1000)
  let bad = 0
  for (const jwt of jwts) {
    const parts = typeof jwt === "string" ? jwt.split(".") : []
    if (parts.length !== 3) {
      bad++
      continue
    }
    const ok = crypto.verify(
      "RSA-SHA256",
      Buffer.from(`${parts[0]}.${parts[1]}`),
      key,
      Buffer.from(parts[2]!, "base64url")
    )
    const claims = ok ? JSON.parse(Buffer.from(parts[1]!, "base64url").toString()) : undefined
    if (!claims || String(claims.iss) !== String(apps.small.id) || !(claims.exp > now) || !(claims.iat <= now + 1)) {
      bad++
    }
  }
  if (bad > 0) failures.push(`S4: ${bad} JWTs with a bad signature or claims`)
}

/**
 * Runs one scenario with a client and checks its results. Called inside a runner process.
 *
 * @since 0.1.0
 */
export const runScenario = async (task: Task, factory: ClientFactory): Promise<Report> => {
  const { scenario, sizes } = task
  const appId = scenario === "S5" ? apps.large.id : apps.small.id
  const client = await factory({ appId, task })
  const phases: Array<Phase> = []
  const failures: Array<string> = []
  let memory: Memory | undefined
  let mintedIds: Array<number> | undefined
  // S1..S3 run twice in the same process: "cold" pays for JIT compilation and first connections (a CLI, a
  // short job), "warm" is the steady state of a long-running app.
  const passes = ["cold", "warm"] as const
  switch (scenario) {
    case "S1": {
      for (const pass of passes) {
        const ids = await timed(phases, `S1 ${pass}`, sizes.getApp, () => client.getApp(sizes.getApp))
        const wrong = ids.filter((id) => id !== appId).length
        if (ids.length !== sizes.getApp) failures.push(`S1 ${pass}: ${ids.length} responses, expected ${sizes.getApp}`)
        if (wrong > 0) failures.push(`S1 ${pass}: ${wrong} responses with the wrong app id`)
      }
      break
    }
    case "S2": {
      for (const pass of passes) {
        const rec = idRecorder(apps.small.installationIdBase, sizes.installations)
        await timed(
          phases,
          `S2 ${pass}`,
          sizes.installations,
          () => client.listInstallations(sizes.perPage, rec.record)
        )
        if (rec.state.foreign > 0) failures.push(`S2 ${pass}: ${rec.state.foreign} ids of no installation`)
        checkIds(failures, `S2 ${pass}`, rec.seen, rec.state.count, rec.state.duplicates)
      }
      break
    }
    case "S3": {
      // Installations 1..n are minted cold, then read from the cache; n+1 is the single-flight one; n+2..2n+1
      // are minted again by the warm process.
      const range = (from: number) => Array.from({ length: sizes.tokens }, (_, i) => installationId("small", from + i))
      const ids = range(1)
      const fresh = installationId("small", sizes.tokens + 1)
      const warmIds = range(sizes.tokens + 2)
      const startedAt = Date.now()
      const minted = await timed(phases, "S3 mint cold", ids.length, () => client.tokens(ids, sizes.tokenWorkers))
      const cached = await timed(phases, "S3 cached", ids.length, () => client.tokens(ids, sizes.tokenWorkers))
      const callers = Array.from({ length: sizes.singleFlightCallers }, () => fresh)
      const shared = await timed(
        phases,
        "S3 single-flight",
        callers.length,
        () => client.tokens(callers, callers.length)
      )
      const warm = await timed(phases, "S3 mint warm", ids.length, () => client.tokens(warmIds, sizes.tokenWorkers))
      checkTokens(failures, "S3 mint cold", minted, ids.length, startedAt)
      checkTokens(failures, "S3 cached", cached, ids.length, startedAt)
      checkTokens(failures, "S3 single-flight", shared, callers.length, startedAt)
      checkTokens(failures, "S3 mint warm", warm, ids.length, startedAt)
      const all = [...minted, ...shared.slice(0, 1), ...warm].map((t) => t.token)
      if (new Set(all).size !== all.length) failures.push("S3: tokens of different installations are not distinct")
      const changed = cached.filter((t, i) => t.token !== minted[i]?.token).length
      if (changed > 0) failures.push(`S3: ${changed} cached tokens differ from the minted ones (not cache hits)`)
      if (new Set(shared.map((t) => t.token)).size !== 1) failures.push("S3: concurrent callers got different tokens")
      mintedIds = [...ids, ...warmIds, fresh]
      break
    }
    case "S4": {
      const jwts = await timed(phases, "S4", sizes.jwts, () => client.jwts(sizes.jwts))
      verifyJwts(failures, jwts, sizes.jwts, task.publicKeyPem)
      break
    }
    case "S5": {
      // Memory must not grow with the count. The strict check is on the heap after a full GC (`--expose-gc`) at
      // `streamedEarly` items, half way and at the end: retaining what was streamed would show there at once.
      // Peak RSS is read every 1,000 items (one cheap read of /proc, not a timer that a busy loop delays) and
      // reported per window; it only gets a loose check, since V8 keeps growing its heap for a while under a
      // high allocation rate before it levels off. The GC pauses are taken out of the timed region.
      const gc = (globalThis as { gc?: () => void }).gc
      if (gc === undefined) throw new Error("S5 needs --expose-gc")
      const rec = idRecorder(apps.large.installationIdBase, sizes.streamed)
      const mid = Math.round((sizes.streamedEarly + sizes.streamed) / 2 / 1000) * 1000
      const rssStart = process.memoryUsage.rss()
      const peak = { early: rssStart, mid: 0, late: 0 }
      const heap = { early: 0, mid: 0, late: 0 }
      const excluded = { wallMs: 0, cpuMs: 0 }
      const heapAfterGc = () => {
        const cpu0 = process.cpuUsage()
        const t0 = performance.now()
        gc()
        const used = process.memoryUsage().heapUsed
        const cpu = process.cpuUsage(cpu0)
        excluded.wallMs += performance.now() - t0
        excluded.cpuMs += (cpu.user + cpu.system) / 1000
        return used
      }
      const onItem = (id: number) => {
        rec.record(id)
        const n = rec.state.count
        if (n % 1000 === 0) {
          const rss = process.memoryUsage.rss()
          const window = n <= sizes.streamedEarly ? "early" : n <= mid ? "mid" : "late"
          peak[window] = Math.max(peak[window], rss)
          if (n === sizes.streamedEarly) heap.early = heapAfterGc()
          if (n === mid) heap.mid = heapAfterGc()
        }
      }
      await timed(phases, "S5", sizes.streamed, () => client.listInstallations(sizes.perPage, onItem), excluded)
      heap.late = heapAfterGc()
      memory = {
        rssStartMiB: mib(rssStart),
        peakRssEarlyMiB: mib(peak.early),
        peakRssMidMiB: mib(peak.mid),
        peakRssLateMiB: mib(peak.late),
        heapAfterGcEarlyMiB: mib(heap.early),
        heapAfterGcMidMiB: mib(heap.mid),
        heapAfterGcLateMiB: mib(heap.late),
        early: sizes.streamedEarly,
        mid,
        late: sizes.streamed
      }
      if (rec.state.foreign > 0) failures.push(`S5: ${rec.state.foreign} ids of no installation`)
      checkIds(failures, "S5", rec.seen, rec.state.count, rec.state.duplicates)
      const retained = mib(heap.late - heap.early)
      if (retained > sizes.streamedRetainedSlackMiB) {
        failures.push(
          `S5: the heap after GC grew by ${retained} MiB from ${sizes.streamedEarly} to ${sizes.streamed} items ` +
            `(allowed ${sizes.streamedRetainedSlackMiB} MiB): memory grows with the count`
        )
      }
      const rssGrowth = mib(peak.late - peak.mid)
      if (rssGrowth > sizes.streamedRssSlackMiB) {
        failures.push(
          `S5: peak RSS grew by ${rssGrowth} MiB from the window ${sizes.streamedEarly}..${mid} to ${mid}..` +
            `${sizes.streamed} (allowed ${sizes.streamedRssSlackMiB} MiB): memory grows with the count`
        )
      }
      break
    }
  }
  await client.close()
  return { runner: task.runner, scenario, phases, memory, failures, mintedIds }
}

/**
 * The entry point of a runner process: waits for its task over IPC, runs it, sends the report, exits.
 *
 * @since 0.1.0
 */
export const runnerMain = (runner: RunnerName, factory: ClientFactory): void => {
  if (!process.send) throw new Error(`the ${runner} runner is started by src/main.ts (it needs an IPC channel)`)
  process.once("message", (task: Task) => {
    runScenario(task, factory).then(
      (report) => process.send!(report, () => process.exit(0)),
      (error: unknown) => {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error)
        process.send!(
          { runner, scenario: task.scenario, phases: [], failures: [`${runner} threw: ${message}`] } satisfies Report,
          () => process.exit(1)
        )
      }
    )
  })
}
