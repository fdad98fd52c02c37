/** Broken promises, grouped by kind, each with a count and a few examples. */
export class Findings {
  private readonly byKind = new Map<string, string[]>();

  add(kind: string, example: string): void {
    const examples = this.byKind.get(kind) ?? [];
    examples.push(example);
    this.byKind.set(kind, examples);
  }

  list(): string[] {
    return [...this.byKind].map(([kind, examples]) => `${kind}: ${examples.length}× (${examples.slice(0, 3).join('; ')}${examples.length > 3 ? '; …' : ''})`);
  }
}
