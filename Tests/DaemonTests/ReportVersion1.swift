/// An analysis report as i2x before schema_version 2 stored it: camelCase field keys (from the
/// CodingKeys of that version) beside the few that were snake_case already, every optional
/// field present; and the same report as schema_version 2 writes it. Two classes, two
/// prototypes, three checkpoints. Class names with capitals and a slash are data and must
/// survive the key migration untouched.
enum ReportVersion1 {
  static let stored = """
    {"schemaVersion":1,"steps":[10,20,30],"classNames":["T-shirt/top","AnkleBoot"],
     "vocabulary":{"fittedOnStep":30,"size":2,"pcaComponents":12,"explainedVariance":0.9,
       "adjustedRandIndex":0.75,"map_shape":[7,7]},
     "prototypes":[
       {"id":0,"cells":20,"presence":[0.9,0.2],"sharedBy":[0],"specialisedFor":[1],
        "examples":[{"probe":3,"label":0,"intensity":0.8,"cells":[1,2]}],
        "traits":{"present_probes":12,"footprint":[0.5,0.25],"fixed_position":0.4,"hot_cells":[1],
          "pixel_box":[0,0,13,13],"mean_cells":3.5,"size_fraction":0.07,"content_variability":0.3,
          "content_standard_deviation":0.1,
          "presence_split":[{"class":0,"present_probes":9,"present_correct":8,"absent_probes":1,"absent_correct":0}]}},
       {"id":1,"cells":5,"presence":[0.1,0.6],"sharedBy":[],"specialisedFor":[],"examples":[]}],
     "classes":[{"label":0,"name":"T-shirt/top","profile":[0.7,0.3],"drift":[0.1,0.05],
       "concentration":[0.9,0.8,0.7],"accuracy":[0.5,0.6,0.7],"confidence":[0.4,0.5,0.6],"shared":[0],"specialised":[1]}],
     "pairs":[{"a":0,"b":1,"confusions":[5,3,1],"margin":[0.1,0.2,0.3],"separationStep":20,"attentionOverlap":0.5,
       "discriminativeForA":[0],"discriminativeForB":[1],"contested":[],
       "accumulated":{"discriminative_for_a":[0],"discriminative_for_b":[1],"contested":[]}}],
     "learningOrder":[[0,1]],
     "intervals":[{"fromStep":20,"toStep":30,"groups":2,"groupSizes":[10,8],"noise":2,"lambda":1.0,
       "crossValidatedR2":0.25,"null95":0.125,"evidence":[0.1,-0.1,0.2,0.0],"prototype_ids":[0,1],"grouped_probes":18}],
     "faithfulness":[{"step":30,"deletion":0.2,"insertion":0.6,"randomDeletion":0.35,"randomInsertion":0.5}],
     "uncertain":[{"prototype":1,"pair":[0,1],"flips":2,"score":0.5,"signs":[1,-1,1],"steps":[10,20,30],"examples":[]}],
     "zeroMaps":[0,0,1],"incremental":false,
     "evidence_totals":{"classes":2,"intervals":1,"weight":18,"ids":[0,1],"sums":[1.8,-1.8,3.6,0]},
     "settled_evidence":{"classes":2,"intervals":0,"weight":0,"ids":[],"sums":[]}}
    """

  /// The same report as schema_version 2 writes it.
  static let current = """
    {"schema_version":2,"steps":[10,20,30],"class_names":["T-shirt/top","AnkleBoot"],
     "vocabulary":{"fitted_on_step":30,"size":2,"pca_components":12,"explained_variance":0.9,
       "adjusted_rand_index":0.75,"map_shape":[7,7]},
     "prototypes":[
       {"id":0,"cells":20,"presence":[0.9,0.2],"shared_by":[0],"specialised_for":[1],
        "examples":[{"probe":3,"label":0,"intensity":0.8,"cells":[1,2]}],
        "traits":{"present_probes":12,"footprint":[0.5,0.25],"fixed_position":0.4,"hot_cells":[1],
          "pixel_box":[0,0,13,13],"mean_cells":3.5,"size_fraction":0.07,"content_variability":0.3,
          "content_standard_deviation":0.1,
          "presence_split":[{"class":0,"present_probes":9,"present_correct":8,"absent_probes":1,"absent_correct":0}]}},
       {"id":1,"cells":5,"presence":[0.1,0.6],"shared_by":[],"specialised_for":[],"examples":[]}],
     "classes":[{"label":0,"name":"T-shirt/top","profile":[0.7,0.3],"drift":[0.1,0.05],
       "concentration":[0.9,0.8,0.7],"accuracy":[0.5,0.6,0.7],"confidence":[0.4,0.5,0.6],"shared":[0],"specialised":[1]}],
     "pairs":[{"a":0,"b":1,"confusions":[5,3,1],"margin":[0.1,0.2,0.3],"separation_step":20,"attention_overlap":0.5,
       "discriminative_for_a":[0],"discriminative_for_b":[1],"contested":[],
       "accumulated":{"discriminative_for_a":[0],"discriminative_for_b":[1],"contested":[]}}],
     "learning_order":[[0,1]],
     "intervals":[{"from_step":20,"to_step":30,"groups":2,"group_sizes":[10,8],"noise":2,"lambda":1.0,
       "cross_validated_r2":0.25,"null95":0.125,"evidence":[0.1,-0.1,0.2,0.0],"prototype_ids":[0,1],"grouped_probes":18}],
     "faithfulness":[{"step":30,"deletion":0.2,"insertion":0.6,"random_deletion":0.35,"random_insertion":0.5}],
     "uncertain":[{"prototype":1,"pair":[0,1],"flips":2,"score":0.5,"signs":[1,-1,1],"steps":[10,20,30],"examples":[]}],
     "zero_maps":[0,0,1],"incremental":false,
     "evidence_totals":{"classes":2,"intervals":1,"weight":18,"ids":[0,1],"sums":[1.8,-1.8,3.6,0]},
     "settled_evidence":{"classes":2,"intervals":0,"weight":0,"ids":[],"sums":[]}}
    """
}
