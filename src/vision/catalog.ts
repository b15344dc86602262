// Optional downloadable models: each pinned by URL, size and SHA-256, with the manifest it installs with.
import type { ModelManifestInput } from './manifest.ts';

export interface CatalogEntry {
  id: string;
  title: string;
  url: string;
  /** null = not pinned yet: the entry is listed but cannot be downloaded (nothing unverified is installed) */
  size: number | null;
  sha256: string | null;
  manifest: Omit<ModelManifestInput, 'sha256' | 'file' | 'id'>;
}

export const CATALOG: CatalogEntry[] = [
  {
    id: 'clip-vit-b32-image',
    title: 'CLIP ViT-B/32 image encoder (512-d), stronger general-purpose embedding',
    url: 'https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/main/onnx/vision_model.onnx',
    // Not pinned: the checksum could not be verified from this (offline) machine. Pin it before enabling.
    size: null,
    sha256: null,
    manifest: {
      version: '1', source: 'openai/clip-vit-base-patch32 (Xenova ONNX export)', licence: 'MIT',
      input: {
        name: 'pixel_values', width: 224, height: 224, layout: 'NCHW', channels: 3, dtype: 'float32', resize: 'center-crop',
        // CLIP: (x/255 - mean) / std
        normalisation: { scale: [1 / (255 * 0.26862954), 1 / (255 * 0.26130258), 1 / (255 * 0.27577711)], offset: [-0.48145466 / 0.26862954, -0.4578275 / 0.26130258, -0.40821073 / 0.27577711] },
      },
      outputs: [{ name: 'image_embeds', dim: 512, kind: 'embedding' }],
    },
  },
];
