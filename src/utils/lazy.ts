/**
 * A value loaded once, on first use. A failed load is not cached, so the next
 * `get()` tries again (a flaky download or a model fixed on disk can recover).
 */
export class Lazy<T> {
  private pending?: Promise<T>;

  constructor(private readonly load: () => Promise<T>) {}

  get(): Promise<T> {
    if (!this.pending) {
      const attempt = this.load();
      this.pending = attempt;
      attempt.catch(() => {
        if (this.pending === attempt) this.pending = undefined;
      });
    }
    return this.pending;
  }

  /** Forget the loaded value; the next `get()` loads again. */
  reset(): void {
    this.pending = undefined;
  }
}
