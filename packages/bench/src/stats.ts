/**
 * Medians with their range, ratios to the floor, and the table both the terminal and latest.md show.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly samples: ReadonlyArray<number>
}

/** @since 0.1.0 */
export const summarize = (samples: ReadonlyArray<number>): Summary => {
  const sorted = [...samples].sort((a, b) => a - b)
  const n = sorted.length
  const median = n === 0 ? NaN : n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2
  return { median, min: sorted[0] ?? NaN, max: sorted[n - 1] ?? NaN, samples }
}

/** Milliseconds with three significant digits. @since 0.1.0 */
export const ms = (value: number): string =>
  !Number.isFinite(value)
    ? "-"
    : value >= 100
    ? value.toFixed(0)
    : value >= 10
    ? value.toFixed(1)
    : value >= 1
    ? value.toFixed(2)
    : value.toFixed(3)

/** `median (min-max)` in ms. @since 0.1.0 */
export const range = (s: Summary): string => `${ms(s.median)} (${ms(s.min)}-${ms(s.max)})`

/** Microseconds per operation of a median. @since 0.1.0 */
export const perOp = (s: Summary, ops: number): string => (ops > 0 ? `${((s.median * 1000) / ops).toFixed(1)}` : "-")

/** `x1.23` against the floor's median. @since 0.1.0 */
export const ratio = (s: Summary, floor: Summary | undefined): string =>
  floor === undefined || !(floor.median > 0) ? "-" : `x${(s.median / floor.median).toFixed(2)}`

/** A Markdown table (also readable in a terminal). @since 0.1.0 */
export const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`
  const rule = `|${widths.map((w, i) => (i < 2 ? `-${"-".repeat(w)}-` : `-${"-".repeat(w)}:`)).join("|")}|`
  return [line(head), rule, ...rows.map(line)].join("\n")
}
