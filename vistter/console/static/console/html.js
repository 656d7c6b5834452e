// htm bound to Preact's h: html`<p>${text}</p>` instead of JSX, so nothing is ever built.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
