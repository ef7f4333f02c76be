// A small typed listener list: no dependency on Node's EventEmitter, so the
// same code runs in browsers and edge workers.

export type Listener<T> = (event: T) => void;

export class Listeners<T> {
  readonly #listeners = new Set<Listener<T>>();

  /** Adds `listener`; the returned function removes it. */
  add(listener: Listener<T>): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Calls every listener with `event`. A listener that throws does not stop
   * the others; its error is reported to `onError`.
   */
  emit(event: T, onError: (error: unknown) => void): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        onError(error);
      }
    }
  }
}
