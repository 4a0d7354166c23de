// Written by `python -m app.trace_defaults` from app/trace_model.py: do not edit by hand.
// Each model of the trace contract: the defaults of the fields a trace may leave out, and
// which fields hold other models (a name, {each}, {values}, or {kind} for node types).
export const MODELS = {
 "BackwardPass": {
  "children": {
   "seed": "TensorValue",
   "span": "Span"
  },
  "defaults": {
   "completed": true,
   "retain_graph": false,
   "span": null,
   "steps": []
  }
 },
 "BackwardStep": {
  "children": {
   "accumulated": "TensorValue",
   "explanation": "StepExplanation",
   "grad_in": {
    "each": "TensorValue"
   },
   "grads_out": {
    "each": "GradientFlow"
   },
   "span": "Span"
  },
  "defaults": {
   "accumulated": null,
   "explanation": null,
   "failed": false,
   "grad_in_targets": [],
   "grads_out": [],
   "span": null
  }
 },
 "ErrorBody": {
  "children": {},
  "defaults": {
   "col": null,
   "hint": null,
   "key": null,
   "line": null,
   "params": {}
  }
 },
 "ExplanationLine": {
  "children": {
   "notes": {
    "each": "Message"
   }
  },
  "defaults": {
   "formula": null,
   "notes": [],
   "result": null,
   "substituted": null,
   "text": null
  }
 },
 "ForwardStep": {
  "children": {},
  "defaults": {}
 },
 "GradCheck": {
  "children": {
   "leaves": {
    "each": "GradCheckLeaf"
   },
   "note": "Message"
  },
  "defaults": {
   "leaves": [],
   "note": null
  }
 },
 "GradCheckElement": {
  "children": {
   "sentence": "Message"
  },
  "defaults": {
   "sentence": null
  }
 },
 "GradCheckLeaf": {
  "children": {
   "elements": {
    "each": "GradCheckElement"
   }
  },
  "defaults": {
   "max_abs_error": null,
   "truncated": false
  }
 },
 "GradSum": {
  "children": {
   "terms": {
    "each": "GradTerm"
   }
  },
  "defaults": {}
 },
 "GradTerm": {
  "children": {},
  "defaults": {
   "op": null
  }
 },
 "GradientFlow": {
  "children": {
   "value": "TensorValue"
  },
  "defaults": {}
 },
 "Message": {
  "children": {},
  "defaults": {
   "params": {}
  }
 },
 "OpNode": {
  "children": {
   "saved": {
    "each": "SavedValue"
   },
   "span": "Span"
  },
  "defaults": {
   "calls": [],
   "grad_fn": null,
   "inplace": false,
   "inputs": [],
   "internal_grad_fns": [],
   "module": null,
   "module_call": null,
   "module_class": null,
   "occurrence": 0,
   "outputs": [],
   "params": {},
   "saved": [],
   "site": "",
   "source": null,
   "span": null,
   "stack": []
  }
 },
 "ParamUpdate": {
  "children": {
   "after": "TensorValue",
   "before": "TensorValue",
   "grad": "TensorValue",
   "state": {
    "values": "TensorValue"
   }
  },
  "defaults": {
   "grad": null,
   "node_after": null,
   "node_before": null,
   "state": {},
   "text": null
  }
 },
 "PassSummary": {
  "children": {},
  "defaults": {
   "grad_norms": [],
   "grads": [],
   "line": null,
   "nonfinite": false,
   "norms": [],
   "values": []
  }
 },
 "SavedValue": {
  "children": {
   "tensor": "TensorValue"
  },
  "defaults": {
   "node": null,
   "tensor": null,
   "text": null
  }
 },
 "Span": {
  "children": {},
  "defaults": {}
 },
 "Stats": {
  "children": {},
  "defaults": {
   "runs": 1
  }
 },
 "StepExplanation": {
  "children": {
   "incoming": "GradSum",
   "lines": {
    "each": "ExplanationLine"
   },
   "notes": {
    "each": "Message"
   }
  },
  "defaults": {
   "general": [],
   "incoming": null,
   "lines": [],
   "notes": [],
   "rule": null,
   "verified": null
  }
 },
 "SummaryParam": {
  "children": {},
  "defaults": {}
 },
 "TensorNode": {
  "children": {
   "grad": "TensorValue",
   "span": "Span",
   "value": "TensorValue"
  },
  "defaults": {
   "grad": null,
   "name": null,
   "names": [],
   "producer": null,
   "span": null
  }
 },
 "TensorValue": {
  "children": {},
  "defaults": {
   "max": null,
   "mean": null,
   "min": null,
   "truncated": false
  }
 },
 "Trace": {
  "children": {
   "backward": {
    "each": "BackwardStep"
   },
   "error": "ErrorBody",
   "forward": {
    "each": "ForwardStep"
   },
   "gradcheck": "GradCheck",
   "nodes": {
    "each": {
     "kind": {
      "op": "OpNode",
      "tensor": "TensorNode"
     }
    }
   },
   "passes": {
    "each": "BackwardPass"
   },
   "stats": "Stats",
   "summaries": {
    "each": "PassSummary"
   },
   "summary_params": {
    "each": "SummaryParam"
   },
   "updates": {
    "each": "UpdateStep"
   },
   "warnings": {
    "each": "TraceWarning"
   }
  },
  "defaults": {
   "error": null,
   "gradcheck": null,
   "modules": {},
   "output": [],
   "passes": [],
   "summaries": [],
   "summary_params": [],
   "updates": [],
   "warnings": []
  }
 },
 "TraceWarning": {
  "children": {},
  "defaults": {
   "col": null,
   "key": null,
   "line": null,
   "params": {}
  }
 },
 "UpdateStep": {
  "children": {
   "params": {
    "each": "ParamUpdate"
   },
   "span": "Span"
  },
  "defaults": {
   "cleared": [],
   "hyper": {},
   "optimizer": null,
   "params": [],
   "span": null,
   "zeroed_to": null
  }
 }
};
