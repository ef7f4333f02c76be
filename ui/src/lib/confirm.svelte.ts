// Changes to a production environment ask for confirmation and a reason
// (which goes to the change log); elsewhere they go straight through.

interface Pending {
  what: string;
  environment: string;
  resolve: (reason: string | null) => void;
}

class Confirmations {
  pending = $state<Pending | null>(null);

  /** The reason to send, `''` outside production, or `null` if the person cancelled. */
  ask(what: string, environment: string, production: boolean): Promise<string | null> {
    if (!production) return Promise.resolve('');
    this.pending?.resolve(null);
    return new Promise((resolve) => {
      this.pending = { what, environment, resolve };
    });
  }

  answer(reason: string | null) {
    const pending = this.pending;
    this.pending = null;
    pending?.resolve(reason);
  }
}

export const confirmations = new Confirmations();
