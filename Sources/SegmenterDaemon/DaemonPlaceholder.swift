import SegmenterCore
import SegmenterKafka
import SegmenterStore
public enum DaemonPlaceholder {}
