/** Small text helpers shared by the YAML renderers. */

/** 0o600 -> "0600": cloud-config permissions are octal strings (quoted, or YAML reads 0600 as a number). */
export function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}

/** The comment block under a YAML bootstrap's first line. */
export function header(format: string, notes: string[]): string {
  return [`Flotilla host bootstrap (${format}), rendered by \`flotillad bootstrap-config --format ${format}\`.`, ...notes]
    .map((l) => `# ${l}\n`)
    .join('');
}
