/**
 * The benchmark orchestrator. Starts the lean GitHub fake in its own process, then runs every (scenario,
 * runner) pair in a fresh Node process, interleaved over rounds (A B C, B C A, ...), checks every result with
 * the runner's own checks and the server's request counts, and writes results/latest.{json,md}.
 *
 * Usage (from packages/bench): `node --import tsx src/main.ts [--quick] [--profile] [--rounds N]
 * [--runners floor,octokit,ours] [--scenarios S1,S3] [--no-build]`. `--profile` runs the selected runners
 * (default: ours) under `--cpu-prof` and writes results/<runner>-<scenario>-r<round>.cpuprofile.
 *
 * @since 0.1.0
 */
import { fork, spawnSync } from "node:child_process"
import type { ChildProcess } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Phase, Report, RunnerName, ScenarioId, Sizes, Task } from "./scenarios.js"
import { fullSizes, quickSizes, runnerNames, scenarioIds, scenarioTitles } from "./scenarios.js"
import type { Summary } from "./stats.js"
import { perOp, range, ratio, summarize, table } from "./stats.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const benchDir = path.resolve(here, "..")
const repoRoot = path.resolve(benchDir, "../..")
const resultsDir = path.join(benchDir, "results")

// ---------------------------------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2)
const flag = (name: string) => argv.includes(`--${name}`)
const option = (name: string): string | undefined => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (i === -1) return undefined
  return argv[i]!.includes("=") ? argv[i]!.slice(name.length + 3) : argv[i + 1]
}
const list = <A extends string>(name: string, all: ReadonlyArray<A>, fallback: ReadonlyArray<A>): ReadonlyArray<A> => {
  const value = option(name)
  if (value === undefined) return fallback
  const picked = value.split(",").map((s) => s.trim()) as Array<A>
  const unknown = picked.filter((p) => !all.includes(p))
  if (unknown.length > 0) throw new Error(`--${name}: unknown ${unknown.join(", ")} (known: ${all.join(", ")})`)
  return picked
}

const quick = flag("quick")
const profile = flag("profile")
const sizes: Sizes = quick ? quickSizes : fullSizes
// Profiling (default: ours only) is for finding hot spots; its timings are distorted, so it does not replace latest.*.
const runners = list<RunnerName>("runners", runnerNames, profile ? ["ours"] : runnerNames)
const scenarios = list<ScenarioId>("scenarios", scenarioIds, scenarioIds)
const rounds = Number(option("rounds") ?? (profile ? 1 : quick ? 2 : 3))
const runnerTimeoutMs = 300_000

// ---------------------------------------------------------------------------------------------------------------
// Processes

const tsx = ["--import", import.meta.resolve("tsx")]

const failLoudly = (lines: ReadonlyArray<string>): never => {
  const bar = "!".repeat(100)
  console.error(`\n${bar}\nBENCHMARK FAILED\n${lines.map((l) => `  ${l}`).join("\n")}\n${bar}\n`)
  process.exit(1)
}

const startServer = (publicKeyPem: string): Promise<{ child: ChildProcess; origin: string }> =>
  new Promise((resolve, reject) => {
    const child = fork(path.join(here, "fake-server.ts"), [], {
      execArgv: tsx,
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`the fake server exited (${code}) before listening`)))
    child.once("message", (m: { port: number }) => resolve({ child, origin: `http://127.0.0.1:${m.port}` }))
    child.send({ publicKeyPem, smallCount: sizes.installations, largeCount: sizes.streamed })
  })

const runOnce = (task: Task, round: number): Promise<Report> =>
  new Promise((resolve, reject) => {
    const execArgv = [...tsx]
    // Node writes one profile per thread (tsx's loader hooks run in a worker), named CPU.<date>.<time>.<pid>.
    // <tid>.<seq>; each run gets its own directory and only the main thread's (tid 0) is kept.
    const profileDir = path.join(resultsDir, `.profile-${task.runner}-${task.scenario}-r${round}`)
    const profileName = path.join(resultsDir, `${task.runner}-${task.scenario}-r${round}.cpuprofile`)
    const profiled = profile
    if (profiled) execArgv.push("--cpu-prof", "--cpu-prof-interval=100", `--cpu-prof-dir=${profileDir}`)
    if (task.scenario === "S5") execArgv.push("--expose-gc")
    const child = fork(path.join(here, "runners", `${task.runner}.ts`), [], {
      execArgv,
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    let report: Report | undefined
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`${task.runner} ${task.scenario} did not finish within ${runnerTimeoutMs / 1000} s`))
    }, runnerTimeoutMs)
    child.on("message", (m: Report) => (report = m))
    child.once("error", reject)
    child.once("exit", (code, signal) => {
      clearTimeout(timer)
      if (profiled && fs.existsSync(profileDir)) {
        const main = fs.readdirSync(profileDir).find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f))
        if (main !== undefined) fs.renameSync(path.join(profileDir, main), profileName)
        fs.rmSync(profileDir, { recursive: true, force: true })
      }
      if (report !== undefined) resolve(report)
      else reject(new Error(`${task.runner} ${task.scenario} exited (${code ?? signal}) without a report`))
    })
    child.send(task)
  })

interface ServerStats {
  readonly cpuMs: number
  readonly rssMiB: number
  readonly getApp: number
  readonly listPages: number
  readonly mints: number
  readonly rejected: number
  readonly notFound: number
  readonly mintsById: Record<string, number>
}

const control = async (origin: string, route: "reset" | "stats"): Promise<ServerStats> => {
  const res = await fetch(`${origin}/_bench/${route}`, { method: route === "reset" ? "POST" : "GET" })
  return (await res.json()) as ServerStats
}

/** What the server must have seen: the same requests, whoever the client. */
const serverFailures = (scenario: ScenarioId, report: Report, s: ServerStats): Array<string> => {
  const pages = (n: number) => Math.ceil(n / sizes.perPage)
  const expected = {
    S1: { getApp: 2 * sizes.getApp, listPages: 0, mints: 0 },
    S2: { getApp: 0, listPages: 2 * pages(sizes.installations), mints: 0 },
    S3: { getApp: 0, listPages: 0, mints: 2 * sizes.tokens + 1 },
    S4: { getApp: 0, listPages: 0, mints: 0 },
    S5: { getApp: 0, listPages: pages(sizes.streamed), mints: 0 }
  }[scenario]
  const out: Array<string> = []
  const label = `${report.runner} ${scenario} (server)`
  if (s.rejected > 0) out.push(`${label}: ${s.rejected} requests rejected with 401`)
  if (s.notFound > 0) out.push(`${label}: ${s.notFound} requests answered 404`)
  for (const k of ["getApp", "listPages", "mints"] as const) {
    if (s[k] !== expected[k]) out.push(`${label}: ${s[k]} ${k} requests, expected ${expected[k]}`)
  }
  if (scenario === "S3") {
    const ids = report.mintedIds ?? []
    const fresh = ids[ids.length - 1]
    const wrong = ids.filter((id) => s.mintsById[id] !== 1)
    if (wrong.length > 0) {
      out.push(
        `${label}: ${wrong.length} installations not minted exactly once, e.g. ${wrong[0]}: ${
          s.mintsById[wrong[0]!] ?? 0
        }`
      )
    }
    out.push(
      ...(fresh !== undefined && s.mintsById[fresh] !== 1
        ? [
          `${label}: ${sizes.singleFlightCallers} concurrent callers caused ${
            s.mintsById[fresh] ?? 0
          } POSTs, expected 1`
        ]
        : [])
    )
    const extra = Object.keys(s.mintsById).filter((id) => !ids.includes(Number(id)))
    if (extra.length > 0) out.push(`${label}: tokens minted for ${extra.length} installations nobody asked for`)
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// Run

interface Sample {
  readonly round: number
  readonly runner: RunnerName
  readonly scenario: ScenarioId
  readonly phases: ReadonlyArray<Phase>
  readonly serverCpuMs: number
  readonly memory: Report["memory"]
}

const machine = () => ({
  cpu: os.cpus()[0]?.model.trim() ?? "unknown",
  cores: os.cpus().length,
  node: process.version,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100)
})

const buildOurs = () => {
  if ((!runners.includes("ours") && !runners.includes("ours-promise")) || flag("no-build")) return
  // The runner imports @effect-github/app and /node as users do, from their built dist.
  console.log("building packages/app and packages/node (tsc -b) for the ours runner ...")
  const tsc = path.join(repoRoot, "node_modules/typescript/bin/tsc")
  const r = spawnSync(process.execPath, [tsc, "-b", "packages/app", "packages/node"], {
    cwd: repoRoot,
    stdio: "inherit"
  })
  if (r.status !== 0) failLoudly(["tsc -b packages/app packages/node failed; the ours runner cannot run (see above)"])
}

const main = async () => {
  const started = Date.now()
  const machineAtStart = machine()
  console.log(
    `effect-github bench (${quick ? "quick" : "full"}${profile ? ", profile" : ""}): ${rounds} round(s), ` +
      `runners ${runners.join(" ")}, scenarios ${scenarios.join(" ")}\n` +
      `${machineAtStart.cpu}, ${machineAtStart.cores} cores, node ${machineAtStart.node}, load ${
        machineAtStart.loadAverage.join(" ")
      }`
  )
  buildOurs()
  fs.mkdirSync(resultsDir, { recursive: true })
  const keys = crypto.generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs1", format: "pem" }, // what GitHub hands out
    publicKeyEncoding: { type: "spki", format: "pem" }
  })
  const server = await startServer(keys.publicKey)
  const samples: Array<Sample> = []
  try {
    for (let round = 1; round <= rounds; round++) {
      // Rotate the order each round so no runner always goes first (or right after a given other one).
      const order = runners.map((_, i) => runners[(i + round - 1) % runners.length]!)
      for (const scenario of scenarios) {
        for (const runner of order) {
          await control(server.origin, "reset")
          const task: Task = {
            runner,
            scenario,
            baseUrl: `${server.origin}/api/v3`,
            privateKeyPem: keys.privateKey,
            publicKeyPem: keys.publicKey,
            sizes
          }
          const report = await runOnce(task, round)
          const stats = await control(server.origin, "stats")
          const failures = [...report.failures, ...serverFailures(scenario, report, stats)]
          if (failures.length > 0) failLoudly([`round ${round}, ${runner} ${scenario}:`, ...failures.slice(0, 20)])
          samples.push({
            round,
            runner,
            scenario,
            phases: report.phases,
            serverCpuMs: stats.cpuMs,
            memory: report.memory
          })
          const phases = report.phases.map((p) => `${p.phase} ${p.wallMs.toFixed(1)} ms (cpu ${p.cpuMs.toFixed(0)})`)
          const mem = report.memory
            ? `, peak RSS ${report.memory.peakRssEarlyMiB} -> ${report.memory.peakRssLateMiB} MiB`
            : ""
          console.log(
            `  r${round} ${runner.padEnd(7)} ${phases.join(", ")}${mem}, server cpu ${stats.cpuMs.toFixed(0)} ms`
          )
        }
      }
    }
  } finally {
    server.child.kill()
  }
  const result = summarizeAll(samples, { started, machineAtStart })
  console.log(`\n${result.markdown}`)
  if (profile) {
    console.log(`profiles written to ${path.relative(process.cwd(), resultsDir)}/*.cpuprofile`)
  }
  // Only a full run of everything replaces the committed latest.*; quick, partial and profiled runs go to
  // last-run.* (gitignored), so `pnpm bench:quick` never overwrites the reference numbers.
  const complete = !quick && !profile && runners.length === runnerNames.length &&
    scenarios.length === scenarioIds.length
  const name = complete ? "latest" : "last-run"
  fs.writeFileSync(path.join(resultsDir, `${name}.json`), JSON.stringify(result.json, null, 2) + "\n")
  fs.writeFileSync(path.join(resultsDir, `${name}.md`), result.markdown + "\n")
  console.log(`written: ${path.relative(process.cwd(), path.join(resultsDir, name))}.{md,json}`)
}

// ---------------------------------------------------------------------------------------------------------------
// Report

const summarizeAll = (
  samples: ReadonlyArray<Sample>,
  context: { readonly started: number; readonly machineAtStart: ReturnType<typeof machine> }
) => {
  const rows: Array<{
    scenario: ScenarioId
    phase: string
    runner: RunnerName
    ops: number
    wallMs: Summary
    cpuMs: Summary
    serverCpuMs: Summary | undefined
  }> = []
  for (const scenario of scenarios) {
    const phaseNames = [
      ...new Set(samples.filter((s) => s.scenario === scenario).flatMap((s) => s.phases.map((p) => p.phase)))
    ]
    phaseNames.forEach((phase, phaseIndex) => {
      for (const runner of runners) {
        const mine = samples.filter((s) => s.scenario === scenario && s.runner === runner)
        const ps = mine.flatMap((s) => s.phases.filter((p) => p.phase === phase))
        if (ps.length === 0) continue
        rows.push({
          scenario,
          phase,
          runner,
          ops: ps[0]!.ops,
          wallMs: summarize(ps.map((p) => p.wallMs)),
          cpuMs: summarize(ps.map((p) => p.cpuMs)),
          // The server's CPU covers the whole process run, so it goes on the scenario's first phase.
          serverCpuMs: phaseIndex === 0 ? summarize(mine.map((s) => s.serverCpuMs)) : undefined
        })
      }
    })
  }
  const floorOf = (phase: string) => rows.find((r) => r.phase === phase && r.runner === "floor")
  const mainTable = table(
    [
      "phase",
      "runner",
      "ops",
      "wall ms median (min-max)",
      "us/op",
      "wall/floor",
      "client CPU ms median (min-max)",
      "CPU/floor",
      "server CPU ms"
    ],
    rows.map((r) => [
      r.phase,
      r.runner,
      String(r.ops),
      range(r.wallMs),
      perOp(r.wallMs, r.ops),
      ratio(r.wallMs, floorOf(r.phase)?.wallMs),
      range(r.cpuMs),
      ratio(r.cpuMs, floorOf(r.phase)?.cpuMs),
      r.serverCpuMs ? range(r.serverCpuMs) : ""
    ])
  )
  const memoryRows = runners.flatMap((runner) => {
    const ms = samples.filter((s) => s.scenario === "S5" && s.runner === runner && s.memory).map((s) => s.memory!)
    if (ms.length === 0) return []
    const med = (f: (m: NonNullable<Report["memory"]>) => number) => summarize(ms.map(f)).median.toFixed(1)
    return [[
      runner,
      med((m) => m.rssStartMiB),
      med((m) => m.peakRssEarlyMiB),
      med((m) => m.peakRssMidMiB),
      med((m) => m.peakRssLateMiB),
      med((m) => m.heapAfterGcEarlyMiB),
      med((m) => m.heapAfterGcMidMiB),
      med((m) => m.heapAfterGcLateMiB)
    ]]
  })
  const k = (n: number) => `${n / 1000}k`
  const [early, mid, late] = [
    sizes.streamedEarly,
    Math.round((sizes.streamedEarly + sizes.streamed) / 2000) * 1000,
    sizes.streamed
  ]
  const memoryTable = memoryRows.length === 0 ? "" : [
    `S5 memory (MiB, medians): peak RSS per window of streamed items, heap used right after a full GC at ${k(early)}, ${
      k(mid)
    } and ${k(late)} items.`,
    "",
    table(
      [
        "S5 runner",
        "RSS at start",
        `peak RSS 0..${k(early)}`,
        `peak RSS ${k(early)}..${k(mid)}`,
        `peak RSS ${k(mid)}..${k(late)}`,
        `heap at ${k(early)}`,
        `heap at ${k(mid)}`,
        `heap at ${k(late)}`
      ],
      memoryRows
    )
  ].join("\n")
  const m = context.machineAtStart
  const end = machine()
  const elapsedS = Math.round((Date.now() - context.started) / 1000)
  const markdown = [
    `# effect-github benchmark (${quick ? "quick" : "full"}${profile ? ", profiled: timings distorted" : ""})`,
    "",
    `${
      new Date(context.started).toISOString()
    }; ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, node ${m.node};`,
    `load average ${m.loadAverage.join(" ")} at start, ${
      end.loadAverage.join(" ")
    } at end; ${rounds} round(s), ${elapsedS} s in all.`,
    "",
    "Scenarios:",
    ...scenarios.map((s) => `- ${s}: ${scenarioTitles[s]}`),
    "",
    mainTable,
    "",
    memoryTable,
    "",
    "Notes:",
    "- Each (scenario, runner, round) runs in a fresh Node process; runners take turns within a round and the order",
    "  rotates between rounds. Wall time is `performance.now()` around the timed region only; client CPU is",
    "  `process.cpuUsage()` (user + system, all threads of the client process) over the same region. Clients, runtimes",
    "  and parsed keys are built before it. S1..S3 run twice in the same process: `cold` (JIT compilation, first",
    "  connections: a CLI or a short job) and `warm` (the steady state of a long-running app); S4 and S5 are long",
    "  enough to be mostly warm.",
    "- The GitHub fake is the lean one in src/fake-server.ts (node:http in its own process, precomputed JSON, about",
    "  1.9 kB per installation), not the full simulator of packages/testing, whose own cost would dominate and blur",
    "  the clients' differences. It verifies each distinct JWT's RS256 signature once and then checks the cached",
    "  claims (`iss`, `iat`, `exp`) on every request. Server CPU is shown so one can see it is not the bottleneck.",
    "- Every run is checked: response counts, installation ids unique and complete, tokens `ghs_` + 36 and",
    "  expiring in about 1 h, cache hits returning the minted tokens, one POST per installation counted by the",
    "  server (including 1 for the concurrent callers), JWTs verified, and exact request counts at the server.",
    "- S4 asks each client for a freshly signed JWT each time (ours: `AppAuth.createJwt()`; octokit:",
    "  `auth({ type: \"app\" })`, which is what it does before every app request; floor: `crypto.sign`)."
  ].join("\n")
  const json = {
    date: new Date(context.started).toISOString(),
    mode: quick ? "quick" : "full",
    profiled: profile,
    machine: { ...m, loadAverageAtEnd: end.loadAverage },
    elapsedSeconds: elapsedS,
    rounds,
    sizes,
    rows: rows.map((r) => ({
      phase: r.phase,
      runner: r.runner,
      ops: r.ops,
      wallMs: r.wallMs,
      cpuMs: r.cpuMs,
      serverCpuMs: r.serverCpuMs,
      wallVsFloor: floorOf(r.phase) ? r.wallMs.median / floorOf(r.phase)!.wallMs.median : undefined,
      cpuVsFloor: floorOf(r.phase) ? r.cpuMs.median / floorOf(r.phase)!.cpuMs.median : undefined
    })),
    memory: samples.filter((s) => s.memory).map((s) => ({ runner: s.runner, round: s.round, ...s.memory })),
    samples
  }
  return { markdown, json }
}

main().catch((error: unknown) => failLoudly([error instanceof Error ? (error.stack ?? error.message) : String(error)]))
