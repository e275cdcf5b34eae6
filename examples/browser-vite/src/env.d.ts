interface ImportMetaEnv {
  /** The URL the page calls; set it when running Vite: `VITE_API_URL=https://... npm run dev`. */
  readonly VITE_API_URL?: string;
}
