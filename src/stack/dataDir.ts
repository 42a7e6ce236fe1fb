/** Where `steadfast start` keeps its data, logs, stack.json and secrets: `STEADFAST_DATA_DIR`, or `.steadfast`. */
export function dataDirOf(env: NodeJS.ProcessEnv = process.env): string {
  return env.STEADFAST_DATA_DIR ?? '.steadfast';
}
