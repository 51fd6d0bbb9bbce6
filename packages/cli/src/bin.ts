#!/usr/bin/env node
/**
 * The `github-app` executable: runs the command line and exits with its code (0 success, 1 GitHub or network
 * error, 2 usage or configuration error, 130 interrupted).
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Cli from "./Cli.js"
import * as Stdio from "./Stdio.js"

// `github-app installations | head`: a reader that stops early is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
  throw error
})

NodeRuntime.runMain(
  Cli.run(process.argv.slice(2)).pipe(Effect.provide(Layer.merge(NodeContext.layer, Stdio.layer))),
  {
    // Cli.run reports every failure itself; what is left is its exit code, or an interruption (Ctrl-C).
    disableErrorReporting: true,
    // logs go to stderr through Cli.run's own logger
    disablePrettyLogger: true,
    teardown: (exit, onExit) =>
      onExit(
        Exit.isSuccess(exit)
          ? Number(exit.value)
          : Cause.isInterruptedOnly(exit.cause)
          ? 130
          : 1
      )
  }
)
