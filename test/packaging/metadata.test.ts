import { assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"

// What npm shows and ships for each published package; the tarballs themselves are checked by
// scripts/consumer-check.sh (installed into a fresh project and run).
const root = Path.join(__dirname, "..", "..")
const published = ["app", "node", "testing", "cli", "redis", "webhooks"]
const read = (name: string) => JSON.parse(Fs.readFileSync(Path.join(root, "packages", name, "package.json"), "utf8"))

describe("package metadata", () => {
  for (const name of published) {
    it(`@effect-github/${name}: repository, homepage, engines, keywords, README, LICENSE`, () => {
      const pkg = read(name)
      assert.strictEqual(pkg.name, `@effect-github/${name}`)
      assert.strictEqual(pkg.license, "MIT")
      assert.strictEqual(pkg.repository.directory, `packages/${name}`)
      assert.match(pkg.repository.url, /^git\+https:\/\/github\.com\/.+\.git$/)
      assert.match(pkg.homepage, /^https:\/\/github\.com\//)
      assert.strictEqual(pkg.engines.node, ">=20")
      assert.isAbove(pkg.keywords.length, 2)
      assert.include(pkg.files, "!dist/**/*.tsbuildinfo")
      assert.match(Fs.readFileSync(Path.join(root, "packages", name, "README.md"), "utf8"), /^# @effect-github\//)
      assert.strictEqual(
        Fs.readFileSync(Path.join(root, "packages", name, "LICENSE"), "utf8"),
        Fs.readFileSync(Path.join(root, "LICENSE"), "utf8")
      )
    })
  }

  it("libraries take effect from the application (a peer); the CLI binary brings its own Effect 3", () => {
    for (const name of ["app", "node", "testing", "redis", "webhooks"]) {
      const pkg = read(name)
      assert.match(pkg.peerDependencies.effect, /^\^3\./, name)
      assert.isUndefined(pkg.dependencies?.effect, name)
    }
    // A binary installed with `npm i -g` or run by npx has no application to provide a peer (pnpm and yarn do not
    // install peers): it depends on effect itself. A caret on 3.x never reaches Effect 4, and lets a program that
    // embeds `Cli.command` share its own effect 3 copy instead of loading a second one.
    const cli = read("cli")
    assert.match(cli.dependencies.effect, /^\^3\.\d+\.\d+$/)
    assert.isUndefined(cli.peerDependencies?.effect)
  })
})
