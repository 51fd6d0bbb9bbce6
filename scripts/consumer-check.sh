#!/usr/bin/env bash
# Consumer-project check: what a user gets from npm, used as a user would.
#
# Packs @effect-github/{app,webhooks,node,testing,redis,cli} with `pnpm pack` (workspace ranges rewritten as on publish), checks
# each tarball's contents (README.md, LICENSE, dist, no .tsbuildinfo, no workspace: range), installs the tarballs
# with npm into a fresh project in a temp dir (Effect 3 pinned, as the README says), type-checks a program that
# uses the public API under a strict NodeNext tsconfig, plus every TypeScript block of README.md
# (scripts/docs-check.ts --emit, against the installed packages instead of the sources), then runs the program:
# a simulator on loopback, the app, eachInstallation, a narrowed token, a suspend, and the `github-app` binary
# from the tarball against the same simulator.
#
# Needs the npm registry (dependencies only; the packages under test come from the tarballs). Exit code 0 on
# success; any failure exits non-zero with the step that failed. KEEP=1 keeps the temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/effect-github-consumer.XXXXXX")
step="start"
cleanup() {
  code=$?
  if [ "$code" -ne 0 ]; then echo "consumer-check: FAILED at: $step (exit $code; files in $work)" >&2; fi
  if [ "$code" -eq 0 ] && [ "${KEEP:-}" = "" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
pnpm() { npx -y pnpm@10.34.8 "$@"; }

step="build"
echo "::: consumer-check: build (at ${SECONDS} s)"
npx tsc -b packages/app packages/webhooks packages/node packages/testing packages/redis packages/cli

step="pack"
echo "::: consumer-check: pack (at ${SECONDS} s)"
mkdir -p "$work/tarballs"
pnpm -r --filter ./packages/app --filter ./packages/webhooks --filter ./packages/node --filter ./packages/testing \
  --filter ./packages/redis --filter ./packages/cli pack --pack-destination "$work/tarballs" >/dev/null
ls "$work/tarballs"

step="tarball contents"
for tarball in "$work"/tarballs/*.tgz; do
  files=$(tar tzf "$tarball")
  for wanted in package/README.md package/LICENSE package/package.json package/dist/index.js package/dist/index.d.ts; do
    grep -qx "$wanted" <<<"$files" || { echo "$(basename "$tarball") lacks $wanted" >&2; exit 1; }
  done
  if grep -q "tsbuildinfo" <<<"$files"; then echo "$(basename "$tarball") ships a .tsbuildinfo" >&2; exit 1; fi
  if tar xzf "$tarball" -O package/package.json | grep -q '"workspace:'; then
    echo "$(basename "$tarball") keeps a workspace: range" >&2
    exit 1
  fi
done

step="install"
echo "::: consumer-check: npm install into $work/project (at ${SECONDS} s)"
mkdir -p "$work/project/src"
cd "$work/project"
tgz() { ls "$work"/tarballs/effect-github-"$1"-*.tgz; }
cat >package.json <<EOF
{
  "name": "consumer",
  "private": true,
  "type": "module",
  "dependencies": {
    "@effect-github/app": "file:$(tgz app)",
    "@effect-github/node": "file:$(tgz node)",
    "@effect-github/testing": "file:$(tgz testing)",
    "@effect-github/cli": "file:$(tgz cli)",
    "@effect-github/redis": "file:$(tgz redis)",
    "@effect-github/webhooks": "file:$(tgz webhooks)",
    "@effect/platform": "0.97.2",
    "@effect/platform-node": "0.108.2",
    "@effect/opentelemetry": "0.64.1",
    "@effect/vitest": "0.30.0",
    "@opentelemetry/api": "^1.9.0",
    "@opentelemetry/resources": "^2.0.0",
    "@opentelemetry/sdk-metrics": "^2.0.0",
    "@opentelemetry/sdk-trace-base": "^2.0.0",
    "@opentelemetry/sdk-trace-node": "^2.0.0",
    "@opentelemetry/semantic-conventions": "^1.33.0",
    "effect": "3.22.4"
  },
  "devDependencies": {
    "@types/node": "^20.19.0",
    "typescript": "~5.9.3",
    "vitest": "^3.2.4"
  },
  "overrides": {
    "@effect-github/app": "file:$(tgz app)",
    "@effect-github/node": "file:$(tgz node)",
    "@effect-github/testing": "file:$(tgz testing)",
    "@effect-github/webhooks": "file:$(tgz webhooks)"
  }
}
EOF
npm install --no-audit --no-fund --prefer-offline --loglevel=error
# one copy of effect for everyone, or tags and types split in two
copies=$(find node_modules -path "*/effect/package.json" -not -path "*/effect/*/effect/package.json" | wc -l)
[ "$copies" -eq 1 ] || { echo "effect is installed $copies times" >&2; find node_modules -path "*/effect/package.json" >&2; exit 1; }

cat >tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "strict": true,
    "exactOptionalPropertyTypes": true,
    "noUncheckedIndexedAccess": true,
    "noImplicitOverride": true,
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "target": "ES2022",
    "lib": ["ES2022"],
    "types": ["node"],
    "verbatimModuleSyntax": true,
    "skipLibCheck": true,
    "outDir": "out",
    "rootDir": "src"
  },
  "include": ["src"]
}
EOF

cat >src/program.ts <<'EOF'
// A consumer's program, on the public API only.
import { GithubError, Integration } from "@effect-github/app"
import { NodeIntegration } from "@effect-github/node"
import { GithubSimulator } from "@effect-github/testing"
import { Chunk, Effect, Redacted, Stream } from "effect"
import { execFile } from "node:child_process"
import { promisify } from "node:util"

const program = Effect.gen(function*() {
  const sim = yield* GithubSimulator.make({
    installations: [
      { account: "octo-org", repositories: ["api", "docs"] },
      { account: "octocat", type: "User", repositories: ["dotfiles"] }
    ],
    installationCount: 0
  })
  const { url } = yield* sim.server
  const GitHub = NodeIntegration.layer({ appId: sim.app.id, privateKey: sim.app.privateKey, baseUrl: url })
  const checks = Effect.gen(function*() {
    const github = yield* Integration.Integration
    const app = yield* github.getApp()
    if (app.id !== sim.app.id) return yield* Effect.die(`app ${app.id}`)
    const sessions = yield* Stream.runCollect(github.eachInstallation({ concurrency: 2 }))
    if (Chunk.size(sessions) !== 2) return yield* Effect.die(`eachInstallation gave ${Chunk.size(sessions)}`)
    const installation = yield* github.getRepoInstallation("octo-org", "api")
    const token = yield* github.getAccessToken(installation.id, { repositories: ["api"], permissions: { contents: "read" } })
    if (!Redacted.value(token.token).startsWith("ghs_")) return yield* Effect.die("not an installation token")
    yield* github.suspendInstallation(installation.id)
    const refused = yield* Effect.flip(github.getAccessToken(installation.id, { permissions: { issues: "read" } }))
    if (!(refused instanceof GithubError.GithubForbidden)) return yield* Effect.die(`expected 403, got ${refused._tag}`)
    const missing = yield* Effect.flip(github.getOrgInstallation("nobody-here"))
    if (missing._tag !== "GithubNotFound" || !missing.message.includes("nobody-here")) {
      return yield* Effect.die(`not found: ${missing.message}`)
    }
    return app.slug
  }).pipe(Effect.provide(GitHub))
  const slug = yield* checks

  // The CLI binary from its tarball, against the same simulator.
  const bin = "node_modules/.bin/github-app" // the bin link npm made from the tarball's package.json
  const env = {
    ...process.env,
    GITHUB_APP_ID: String(sim.app.id),
    GITHUB_APP_PRIVATE_KEY: Redacted.value(sim.app.privateKey),
    GITHUB_API_URL: url
  }
  // asynchronously: the simulator answers from this process's event loop
  const listed: unknown = yield* Effect.promise(async () =>
    JSON.parse((await promisify(execFile)(bin, ["installations", "--json", "--timeout", "20"], { env })).stdout)
  )
  if (!Array.isArray(listed) || listed.length !== 2) return yield* Effect.die(`github-app installations: ${listed}`)
  console.log(`consumer program: ${slug} ok, eachInstallation, token, suspend, not-found, github-app installations`)
})

Effect.runPromise(Effect.scoped(program)).catch((error) => {
  console.error(error)
  process.exit(1)
})
EOF

step="docs blocks"
echo "::: consumer-check: README blocks against the installed packages (at ${SECONDS} s)"
node --import "$repo/node_modules/tsx/dist/esm/index.mjs" "$repo/scripts/docs-check.ts" --emit "$work/project/src/docs"

step="type check"
echo "::: consumer-check: tsc (strict, NodeNext) (at ${SECONDS} s)"
npx tsc -p tsconfig.json

step="run"
echo "::: consumer-check: run (at ${SECONDS} s)"
node out/program.js
step="done"
echo "::: consumer-check: passed (at ${SECONDS} s)"
