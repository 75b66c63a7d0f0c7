// A short tone for new critical alarms. Browsers only let audio start after a user gesture,
// so the AudioContext is created when the operator switches the sound on.
export class Beeper {
  private context: AudioContext | null = null;

  get enabled(): boolean {
    return this.context !== null;
  }

  enable(): void {
    this.context ??= new AudioContext();
    void this.context.resume();
  }

  disable(): void {
    void this.context?.close();
    this.context = null;
  }

  beep(): void {
    const ctx = this.context;
    if (!ctx) return;
    const tone = ctx.createOscillator();
    const gain = ctx.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.2, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + 0.25);
    tone.connect(gain).connect(ctx.destination);
    tone.start();
    tone.stop(ctx.currentTime + 0.25);
  }
}
