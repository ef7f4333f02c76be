// Changes to a production environment ask for confirmation and a reason
// (which goes to the change log); elsewhere they go straight through.
// Moves of a rollout plan (pause, abort, …) ask everywhere: the reason is
// also the plan's note, which tells the next person why it stopped.

interface Pending {
  what: string;
  environment: string;
  production: boolean;
  resolve: (reason: string | null) => void;
}

class Confirmations {
  pending = $state<Pending | null>(null);

  /** The reason to send, `''` outside production, or `null` if the person cancelled. */
  ask(what: string, environment: string, production: boolean): Promise<string | null> {
    if (!production) return Promise.resolve('');
    return this.reason(what, environment, true);
  }

  /** The reason, asked in every environment; `null` if the person cancelled. */
  reason(what: string, environment: string, production: boolean): Promise<string | null> {
    this.pending?.resolve(null);
    return new Promise((resolve) => {
      this.pending = { what, environment, production, resolve };
    });
  }

  answer(reason: string | null) {
    const pending = this.pending;
    this.pending = null;
    pending?.resolve(reason);
  }
}

export const confirmations = new Confirmations();
